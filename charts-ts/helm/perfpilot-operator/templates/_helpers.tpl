{{/*
The chart is kept by hand beside the cdk8s constructs (charts-ts/src/operator*.ts); the release
test renders it with helm template and compares every object with the release bundle, so a change
to one without the other fails. Names are fixed, as in the bundle: one operator per cluster.
*/}}

{{- define "perfpilot.name" -}}perfpilot-operator{{- end }}

{{- define "perfpilot.labels" -}}
app.kubernetes.io/component: operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/name: perfpilot-operator
app.kubernetes.io/part-of: perfpilot
{{- end }}

{{/* allNamespaces is "true" when watchNamespaces is ["*"]: one ClusterRole instead of a Role per namespace. */}}
{{- define "perfpilot.allNamespaces" -}}{{ has "*" .Values.watchNamespaces }}{{- end }}

{{/* tunedNamespaces: the listed namespaces, or the release's own when the list is empty. */}}
{{- define "perfpilot.tunedNamespaces" -}}
{{- if .Values.watchNamespaces }}{{ join "," (uniq .Values.watchNamespaces) }}{{ else }}{{ .Release.Namespace }}{{ end }}
{{- end }}

{{/* tunedRules: what the profile forms need in a tuned namespace (operator-rbac.ts, tunedNamespaceRules). */}}
{{- define "perfpilot.tunedRules" -}}
- apiGroups:
    - perfpilot.dev
  resources:
    - performanceprofiles
  verbs:
    - get
    - list
    - watch
    - patch
- apiGroups:
    - perfpilot.dev
  resources:
    - performanceprofiles/status
  verbs:
    - patch
- apiGroups:
    - autoscaling
  resources:
    - horizontalpodautoscalers
  verbs:
    - get
    - list
    - watch
    - patch
- apiGroups:
    - keda.sh
  resources:
    - scaledobjects
  verbs:
    - get
    - patch
- apiGroups:
    - ""
  resources:
    - configmaps
  verbs:
    - get
    - list
    - watch
    - patch
- apiGroups:
    - apps
  resources:
    - deployments
  verbs:
    - get
    - list
    - watch
    - patch
{{- if .Values.secretNames }}
- apiGroups:
    - ""
  resources:
    - secrets
  resourceNames:
    {{- toYaml (uniq .Values.secretNames) | nindent 4 }}
  verbs:
    - get
{{- end }}
- apiGroups:
    - events.k8s.io
  resources:
    - events
  verbs:
    - create
{{- end }}
