{{/* Refuse values the operator cannot honour, with a message saying why. */}}
{{- define "conveyor.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) -}}
{{- fail (printf "replicaCount is %d, but only one Conveyor operator may run at a time: without leader election two operators would admit jobs twice. Set leaderElection.enabled=true (the Lease holder acts, the others stand by) or replicaCount: 1." (int .Values.replicaCount)) -}}
{{- end -}}
{{- $seen := dict -}}
{{- range .Values.watchNamespaces -}}
{{- if hasKey $seen . -}}
{{- fail (printf "watchNamespaces lists %q twice" .) -}}
{{- end -}}
{{- $_ := set $seen . true -}}
{{- end -}}
{{- $root := . -}}
{{- range .Values.workers -}}
{{- $ns := default $root.Release.Namespace .namespace -}}
{{- if and $root.Values.watchNamespaces (not (has $ns $root.Values.watchNamespaces)) -}}
{{- fail (printf "worker %q is in namespace %q, which is not in watchNamespaces %v: the operator would never see it" .name $ns $root.Values.watchNamespaces) -}}
{{- end -}}
{{- end -}}
{{- end -}}
