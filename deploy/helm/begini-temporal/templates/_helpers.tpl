{{/* Names, labels and the pieces every pod of the chart shares. */}}

{{- define "begini.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "receiver"). */}}
{{- define "begini.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "begini.labels" -}}
{{ include "begini.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* A Temporal namespace as a name part and label value: lower case, [a-z0-9-], at most 30. */}}
{{- define "begini.namespaceSlug" -}}
{{- regexReplaceAll "[^a-z0-9-]" (lower .) "-" | trunc 30 | trimAll "-" -}}
{{- end -}}

{{- define "begini.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* One env var from a Secret key: (dict "name" "ENV" "ref" .Values.x.secret). */}}
{{- define "begini.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .ref.secretName }}
      key: {{ .ref.key }}
{{- end -}}

{{/*
Where Temporal is, for every process (read by @temporalio/envconfig): the address, the API key and
TLS by Secret reference. The namespace is set by each workload.
*/}}
{{- define "begini.temporalEnv" -}}
{{- $t := .Values.temporal -}}
- name: TEMPORAL_ADDRESS
  value: {{ $t.address | quote }}
{{- if $t.apiKey.secretName }}
{{ include "begini.secretEnv" (dict "name" "TEMPORAL_API_KEY" "ref" $t.apiKey) }}
{{- end }}
{{- if $t.tls.enabled }}
- name: TEMPORAL_TLS
  value: "true"
{{- if $t.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ $t.tls.serverName | quote }}
{{- end }}
{{- if $t.tls.serverCA.secretName }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: /etc/begini-temporal/temporal-ca/{{ $t.tls.serverCA.key }}
{{- end }}
{{- if $t.tls.clientCert.secretName }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: /etc/begini-temporal/temporal-client/{{ $t.tls.clientCert.certKey }}
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: /etc/begini-temporal/temporal-client/{{ $t.tls.clientCert.privateKeyKey }}
{{- end }}
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end -}}

{{- define "begini.temporalMounts" -}}
{{- $tls := .Values.temporal.tls -}}
{{- if and $tls.enabled $tls.serverCA.secretName }}
- name: temporal-ca
  mountPath: /etc/begini-temporal/temporal-ca
  readOnly: true
{{- end }}
{{- if and $tls.enabled $tls.clientCert.secretName }}
- name: temporal-client
  mountPath: /etc/begini-temporal/temporal-client
  readOnly: true
{{- end }}
{{- end -}}

{{- define "begini.temporalVolumes" -}}
{{- $tls := .Values.temporal.tls -}}
{{- if and $tls.enabled $tls.serverCA.secretName }}
- name: temporal-ca
  secret:
    secretName: {{ $tls.serverCA.secretName }}
    items:
      - { key: {{ $tls.serverCA.key }}, path: {{ $tls.serverCA.key }} }
{{- end }}
{{- if and $tls.enabled $tls.clientCert.secretName }}
- name: temporal-client
  secret:
    secretName: {{ $tls.clientCert.secretName }}
    items:
      - { key: {{ $tls.clientCert.certKey }}, path: {{ $tls.clientCert.certKey }} }
      - { key: {{ $tls.clientCert.privateKeyKey }}, path: {{ $tls.clientCert.privateKeyKey }} }
{{- end }}
{{- end -}}

{{/* The payload keys and the plaintext allowance: the receiver, the workers and the codec endpoint. */}}
{{- define "begini.payloadCodecEnv" -}}
{{ include "begini.secretEnv" (dict "name" "PAYLOAD_CODEC_KEYS" "ref" .Values.payloadCodec.keys) }}
{{- with .Values.payloadCodec.acceptPlaintextUntil }}
- name: PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{/*
A file mounted from a ConfigMap or Secret key, read through the env var that names it:
(dict "name" "policy" "env" "POLICY_FILE" "ref" .Values.worker.policyFile). Nothing when neither is set.
*/}}
{{- define "begini.fileEnv" -}}
{{- if or .ref.configMapName .ref.secretName }}
- name: {{ .env }}
  value: /etc/begini-temporal/{{ .name }}/{{ .ref.key }}
{{- end }}
{{- end -}}

{{- define "begini.fileMount" -}}
{{- if or .ref.configMapName .ref.secretName }}
- name: {{ .name }}
  mountPath: /etc/begini-temporal/{{ .name }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "begini.fileVolume" -}}
{{- if and .ref.configMapName .ref.secretName }}
{{- fail (printf "%s: name a configMapName or a secretName, not both" .name) }}
{{- else if .ref.configMapName }}
- name: {{ .name }}
  configMap:
    name: {{ .ref.configMapName }}
    items:
      - { key: {{ .ref.key }}, path: {{ .ref.key }} }
{{- else if .ref.secretName }}
- name: {{ .name }}
  secret:
    secretName: {{ .ref.secretName }}
    items:
      - { key: {{ .ref.key }}, path: {{ .ref.key }} }
{{- end }}
{{- end -}}

{{/*
The pod spec every workload shares up to its containers: no Kubernetes API token, the non-root
security context and scheduling. The Deployments name the chart's service account; the hook Job,
which runs before it exists, the namespace's default.
*/}}
{{- define "begini.podBase" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Each container: no root, no privilege, nothing writable but the /tmp emptyDir. */}}
{{- define "begini.containerSecurity" -}}
image: {{ include "begini.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
{{- end -}}

{{- define "begini.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "begini.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{/* A PodDisruptionBudget: (dict "root" $ "name" "..." "component" "..." "pdb" .Values.x.pdb "extra" labels). */}}
{{- define "begini.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  labels:
    {{- include "begini.labels" . | nindent 4 }}
    {{- with .extra }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  maxUnavailable: {{ .pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "begini.selectorLabels" . | nindent 6 }}
      {{- with .extra }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
{{- end -}}

{{/* An HPA on CPU: (dict "root" $ "name" "..." "component" "..." "autoscaling" .Values.x.autoscaling). */}}
{{- define "begini.hpa" -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .name }}
  labels:
    {{- include "begini.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .name }}
  minReplicas: {{ .autoscaling.minReplicas }}
  maxReplicas: {{ .autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .autoscaling.targetCPUUtilizationPercentage }}
{{- end -}}

{{/* The workers, one per Temporal namespace: a list of dicts (name, slug, replicas), slugs checked unique. */}}
{{- define "begini.workerNamespaces" -}}
{{- $seen := dict -}}
{{- $list := list -}}
{{- range .Values.temporal.namespaces -}}
{{- $slug := include "begini.namespaceSlug" .name -}}
{{- if hasKey $seen $slug -}}
{{- fail (printf "temporal.namespaces: %s and %s give the same worker name %s" (get $seen $slug) .name $slug) -}}
{{- end -}}
{{- $_ := set $seen $slug .name -}}
{{- $list = append $list (dict "name" .name "slug" $slug "replicas" (.replicas | default $.Values.worker.replicas)) -}}
{{- end -}}
{{- toJson $list -}}
{{- end -}}
