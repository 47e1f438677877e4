{{/* Names and labels shared by every template. */}}

{{- define "conveyor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "conveyor.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "conveyor.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "conveyor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "conveyor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "conveyor.labels" -}}
helm.sh/chart: {{ include "conveyor.chart" . }}
{{ include "conveyor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: conveyor
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "conveyor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "conveyor.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "conveyor.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (toString (default .Chart.AppVersion .Values.image.tag)) -}}
{{- end -}}
{{- end -}}

{{- define "conveyor.agentImage" -}}
{{- if .Values.agent.image.digest -}}
{{- printf "%s@%s" .Values.agent.image.repository .Values.agent.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.agent.image.repository (toString (default .Chart.AppVersion .Values.agent.image.tag)) -}}
{{- end -}}
{{- end -}}

{{/*
Cluster-scoped objects (ClusterRoles, ClusterRoleBindings) are named after the
release and its namespace, so two releases never fight over one name.
*/}}
{{- define "conveyor.clusterName" -}}
{{- printf "%s-%s" (include "conveyor.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The rules the operator needs on its objects, wherever it watches them. Each
verb is used by a named piece of code (docs/security.md):
- pipelinejobs: list/watch (kopf and the start-up listing), get (re-read
  after a write conflict), delete (spec.ttlAfterFinished, cron history
  limits), create (a PipelineCronJob's runs), patch (spec.revoke on a run the
  operator created, concurrencyPolicy: Replace);
- pipelinecronjobs, workers: list/watch; pipelinecronjobs: get (re-read);
- the status subresources: patch (the operator's only writes to its kinds);
- pipelinejobs/finalizers, pipelinecronjobs/finalizers: update, so that the
  objects the operator creates may carry an ownerReference with
  blockOwnerDeletion (clusters enforcing OwnerReferencesPermissionEnforcement);
- jobs: list/watch, create (one per attempt), get (adopt an existing one),
  delete (revoke, timeout);
- pods: list/watch (why a Job's pod does not run, exit codes, outputs);
- events: create (what `kubectl describe` shows); list (a Job's FailedCreate
  Events, read for a Job without a pod past a grace period).
*/}}
{{- define "conveyor.rules" -}}
- apiGroups: [conveyor.dev]
  resources: [pipelinejobs]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [conveyor.dev]
  resources: [pipelinecronjobs]
  verbs: [get, list, watch]
- apiGroups: [conveyor.dev]
  resources: [workers]
  verbs: [list, watch]
- apiGroups: [conveyor.dev]
  resources: [pipelines]
  verbs: [get, list, watch]
# A PipelineCronJob's runs: created, revoked (spec.revoke of a run it owns), pruned.
- apiGroups: [conveyor.dev]
  resources: [pipelineruns]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [conveyor.dev]
  resources: [pipelinejobs/status, pipelinecronjobs/status, workers/status, pipelineruns/status]
  verbs: [patch]
# Children's ownerReferences with blockOwnerDeletion need update on the owner's finalizers.
- apiGroups: [conveyor.dev]
  resources: [pipelinejobs/finalizers, pipelinecronjobs/finalizers, pipelineruns/finalizers]
  verbs: [update]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, list]
{{- end -}}

{{/* The dashboard's own name label, so the operator's Services never select its pod. */}}
{{- define "conveyor.dashboardSelectorLabels" -}}
app.kubernetes.io/name: {{ include "conveyor.name" . }}-dashboard
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "conveyor.dashboardLabels" -}}
helm.sh/chart: {{ include "conveyor.chart" . }}
{{ include "conveyor.dashboardSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: dashboard
app.kubernetes.io/part-of: conveyor
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
