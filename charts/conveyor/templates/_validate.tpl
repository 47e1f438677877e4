{{/* Refuse values the operator cannot honour, with a message saying why. */}}
{{- define "conveyor.validate" -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- fail (printf "replicaCount is %d, but only one Conveyor operator may run at a time: it has no leader election yet (kopf peering is off), and two operators would admit jobs twice. Use replicaCount: 1 (the Deployment's Recreate strategy never runs two during an upgrade)." (int .Values.replicaCount)) -}}
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
