{{/*
The archive (values `archive`, docs/history.md), for the container that
records it: the dashboard's server. Include in its container:
  args:         {{ include "conveyor.archive.args" . | nindent N }}
  volumeMounts: {{ include "conveyor.archive.volumeMounts" . | nindent N }}
and in its pod:
  volumes:      {{ include "conveyor.archive.volumes" . | nindent N }}
Each renders nothing with archive.type none. The password is a mounted
Secret file: never on the command line, never in an environment dump.
*/}}

{{- define "conveyor.archive.mountPath" -}}/var/lib/conveyor/archive{{- end -}}
{{- define "conveyor.archive.passwordPath" -}}/etc/conveyor/archive-password{{- end -}}

{{- define "conveyor.archive.claimName" -}}
{{- .Values.archive.sqlite.existingClaim | default (printf "%s-archive" (include "conveyor.fullname" .)) -}}
{{- end -}}

{{- define "conveyor.archive.url" -}}
{{- $a := .Values.archive -}}
{{- if eq $a.type "sqlite" -}}
sqlite:///{{ include "conveyor.archive.mountPath" . }}/history.db
{{- else if eq $a.type "postgresql" -}}
{{- $p := $a.postgresql -}}
postgresql://{{ $p.user }}@{{ $p.host }}:{{ $p.port }}/{{ $p.database }}?sslmode={{ $p.sslmode }}
{{- end -}}
{{- end -}}

{{- define "conveyor.archive.args" -}}
{{- if ne .Values.archive.type "none" }}
- --archive={{ include "conveyor.archive.url" . }}
- --archive-retention={{ .Values.archive.retention }}
- --insights-window={{ .Values.archive.insightsWindow }}
{{- if eq .Values.archive.type "postgresql" }}
- --archive-password-file={{ include "conveyor.archive.passwordPath" . }}/password
{{- end }}
{{- end }}
{{- end -}}

{{- define "conveyor.archive.volumeMounts" -}}
{{- if eq .Values.archive.type "sqlite" }}
- name: archive
  mountPath: {{ include "conveyor.archive.mountPath" . }}
{{- else if eq .Values.archive.type "postgresql" }}
- name: archive-password
  mountPath: {{ include "conveyor.archive.passwordPath" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "conveyor.archive.volumes" -}}
{{- if eq .Values.archive.type "sqlite" }}
- name: archive
  persistentVolumeClaim:
    claimName: {{ include "conveyor.archive.claimName" . }}
{{- else if eq .Values.archive.type "postgresql" }}
- name: archive-password
  secret:
    secretName: {{ .Values.archive.postgresql.passwordSecret.name }}
    defaultMode: 0440  # readable by the pod's fsGroup (it runs as non-root)
    items:
      - key: {{ .Values.archive.postgresql.passwordSecret.key }}
        path: password
{{- end }}
{{- end -}}
