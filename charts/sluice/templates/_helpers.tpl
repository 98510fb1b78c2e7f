{{/* Names, labels and the image reference shared by every template. */}}

{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sluice.fullname" -}}
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

{{- define "sluice.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "sluice.labels" -}}
helm.sh/chart: {{ include "sluice.chart" . }}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sluice
{{- end -}}

{{- define "sluice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sluice.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "sluice.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The worker image: workerImage when set, else the operator's own image. */}}
{{- define "sluice.workerImage" -}}
{{- if .Values.workerImage.repository -}}
{{- printf "%s:%s" .Values.workerImage.repository (default .Chart.AppVersion .Values.workerImage.tag) -}}
{{- else -}}
{{- include "sluice.image" . -}}
{{- end -}}
{{- end -}}

{{/* Namespaced mode: watchNamespaces is non-empty. */}}
{{- define "sluice.namespaced" -}}
{{- if gt (len .Values.watchNamespaces) 0 -}}true{{- end -}}
{{- end -}}

{{/*
The permissions the operator needs on the pipelines' namespaces. Used by the ClusterRole
(cluster-wide mode) and by each per-namespace Role (namespaced mode), so the two never drift.
leases: worker heartbeats (and, cluster-wide, leader election). The operator grants its workers
lease access through a Role; Kubernetes' RBAC escalation check only lets it create that Role
because it holds the same lease permissions itself.
*/}}
{{- define "sluice.rules" -}}
# Least privilege: each verb is one the operator calls (rules on what it writes and reads are
# listed against the code in docs/security.md; the node e2e runs the operator in-cluster with
# these rules). No delete anywhere: the garbage collector removes a pipeline's objects through
# their owner references.
# Pipelines: list/watch (the informer); get only because the worker Role the operator writes
# grants get on the worker's own pipeline, and RBAC lets a subject grant only what it holds.
- apiGroups: [sluice.dev]
  resources: [consumerpipelines]
  verbs: [get, list, watch]
- apiGroups: [sluice.dev]
  resources: [consumerpipelines/status]
  verbs: [patch]
# Owner references with blockOwnerDeletion need update on the owner's finalizers subresource
# where the OwnerReferencesPermissionEnforcement admission plugin is on.
- apiGroups: [sluice.dev]
  resources: [consumerpipelines/finalizers]
  verbs: [update]
# Owned objects: server-side apply (patch; create when absent) after a get of what is at that
# name (the operator never adopts an object it did not create); Deployments also list/watch.
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch]
- apiGroups: [""]
  resources: [configmaps, serviceaccounts]
  verbs: [get, create, patch]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [get, create, patch]
# Leases: get/create/update for leader election, list for the workers' heartbeat reports;
# create/patch because the worker Role grants them (see consumerpipelines get).
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, list, create, update, patch]
# The pipeline's Pods (by its label), to trust only reports from Leases owned by one of them.
- apiGroups: [""]
  resources: [pods]
  verbs: [list]
# The Secrets a pipeline names: their presence (a condition when missing), for the lag probe the
# credentials of Secrets labelled for it (docs/security.md), and a watch (metadata only kept) so a
# changed Secret rolls the workers.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end -}}
