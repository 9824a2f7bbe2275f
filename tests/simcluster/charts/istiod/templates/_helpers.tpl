{{- define "istiod.suffix" -}}{{ if .Values.revision }}-{{ .Values.revision }}{{ end }}{{- end -}}
{{- define "istiod.name" -}}istiod{{ include "istiod.suffix" . }}{{- end -}}
{{- define "istiod.rev" -}}{{ .Values.revision | default "default" }}{{- end -}}
{{- define "istiod.labels" -}}
app.kubernetes.io/managed-by: Helm
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: istio
app.kubernetes.io/version: {{ .Values.global.tag | quote }}
app.kubernetes.io/name: istiod
helm.sh/chart: istiod-{{ .Chart.Version }}
release: {{ .Release.Name }}
install.operator.istio.io/owning-resource: unknown
operator.istio.io/component: Pilot
istio.io/rev: {{ include "istiod.rev" . }}
{{- end -}}
