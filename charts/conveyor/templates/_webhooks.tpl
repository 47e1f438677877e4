{{/* Labels of the webhook receiver: its own name, so no operator selector matches its pods. */}}

{{- define "conveyor.webhooks.labels" -}}
helm.sh/chart: {{ include "conveyor.chart" . }}
app.kubernetes.io/name: {{ include "conveyor.name" . }}-webhooks
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: webhooks
app.kubernetes.io/part-of: conveyor
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "conveyor.webhooks.selector" -}}
app.kubernetes.io/name: {{ include "conveyor.name" . }}-webhooks
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
