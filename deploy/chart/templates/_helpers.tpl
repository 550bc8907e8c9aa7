{{/* The chart's name, and the name of every object it makes (the release's unless overridden). */}}
{{- define "lb-provisioner.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "lb-provisioner.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "lb-provisioner.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "lb-provisioner.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Pods of this release: the Deployment's selector, the PodDisruptionBudget's, the metrics Service's. */}}
{{- define "lb-provisioner.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lb-provisioner.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* On every object. deploy/ is rendered with helmManagedLabels=false: kubectl, not Helm, manages it. */}}
{{- define "lb-provisioner.labels" -}}
{{ include "lb-provisioner.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- if .Values.helmManagedLabels }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}
{{- end }}

{{- define "lb-provisioner.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "lb-provisioner.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false: the ServiceAccount the controller runs as" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The provider, which has no default: running another cloud's controller by accident is worse than not rendering. */}}
{{- define "lb-provisioner.provider" -}}
{{- required "provider is required: aws, fake (in memory, for trials), or a provider module (see docs/providers.md); e.g. --set provider=aws" .Values.provider }}
{{- end }}
