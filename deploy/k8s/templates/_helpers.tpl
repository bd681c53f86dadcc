{{/* Release-wide name: the release name, prefixed with the chart name unless it already contains it. */}}
{{- define "prometeo.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A service's object name: <fullname>-<service>. Call with (dict "root" $ "name" "feature-store"). */}}
{{- define "prometeo.serviceName" -}}
{{- printf "%s-%s" (include "prometeo.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "prometeo.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "prometeo.fullname" .)) -}}
{{- end -}}

{{- define "prometeo.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "prometeo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: prometeo
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels of one service. Call with (dict "root" $ "name" ...). */}}
{{- define "prometeo.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{/* The settings every service reads under their shared, unprefixed names. */}}
{{- define "prometeo.sharedEnv" -}}
- name: PROMETEO_ENV
  value: {{ .Values.environment | quote }}
- name: PROMETEO_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ .Values.kafka.bootstrapServers | quote }}
- name: PROMETEO_VIEWS_CHECK_INTERVAL_S
  value: {{ .Values.redis.viewsCheckIntervalS | quote }}
- name: PROMETEO_CONSUMER_SESSION_TIMEOUT_MS
  value: {{ .Values.kafka.consumerSessionTimeoutMs | quote }}
- name: PROMETEO_PRODUCER_DELIVERY_TIMEOUT_MS
  value: {{ .Values.kafka.producerDeliveryTimeoutMs | quote }}
- name: PROMETEO_TOPIC_PARTITIONS
  value: {{ .Values.topicInit.partitions | quote }}
- name: REDIS_URL
  value: {{ .Values.redis.url | quote }}
- name: MLFLOW_TRACKING_URI
  value: {{ .Values.mlflow.trackingUri | quote }}
- name: PROMETEO_PSEUDONYM_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "prometeo.secretName" . }}
      key: pseudonym-key
- name: PROMETEO_SERVICE_TOKEN_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "prometeo.secretName" . }}
      key: service-token-key
{{- end -}}

{{/*
One service: Deployment, Service and (optionally) HorizontalPodAutoscaler.
Call with (dict "root" $ "name" "<service>" "env" (dict "field" "value")) where env holds settings the
chart computes (e.g. the gateway's upstream URLs) and "secretEnv" a list of extra env entries from Secrets.
The service's `env` in values wins over computed entries. Names are PROMETEO_<SERVICE>_<FIELD>: the prefix
of that service's Settings class.
*/}}
{{- define "prometeo.service" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $svc := index $root.Values $name -}}
{{- if $svc.enabled -}}
{{- $fullName := include "prometeo.serviceName" . -}}
{{- $prefix := printf "PROMETEO_%s_" ($name | replace "-" "_" | upper) -}}
{{- $env := merge (dict) ($svc.env | default dict) (.env | default dict) -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullName }}
  labels:
    {{- include "prometeo.labels" $root | nindent 4 }}
    {{- include "prometeo.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
spec:
  {{- if not $svc.autoscaling.enabled }}
  replicas: {{ $svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "prometeo.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "prometeo.labels" $root | nindent 8 }}
        {{- include "prometeo.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/component: {{ $name }}
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $svc.port | quote }}
        prometheus.io/path: /metrics
    spec:
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      automountServiceAccountToken: false
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ $name }}
          image: {{ include "prometeo.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          command: ["python", "-m", {{ $svc.module | quote }}]
          ports:
            - name: http
              containerPort: {{ $svc.port }}
              protocol: TCP
          env:
            {{- include "prometeo.sharedEnv" $root | nindent 12 }}
            - name: {{ printf "%sHOST" $prefix }}
              value: "0.0.0.0"
            - name: {{ printf "%sPORT" $prefix }}
              value: {{ $svc.port | quote }}
            {{- if $svc.groupId }}
            - name: {{ printf "%sGROUP_ID" $prefix }}
              value: {{ $svc.groupId | quote }}
            {{- end }}
            {{- range $field, $value := $env }}
            - name: {{ printf "%s%s" $prefix ($field | upper) }}
              value: {{ $value | toString | quote }}
            {{- end }}
            {{- with .secretEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: 10
            failureThreshold: {{ $root.Values.probes.startupFailureThreshold }}
          livenessProbe:
            httpGet: {path: /healthz, port: http}
            periodSeconds: {{ $root.Values.probes.periodSeconds }}
            timeoutSeconds: {{ $root.Values.probes.timeoutSeconds }}
            failureThreshold: {{ $root.Values.probes.failureThreshold }}
          readinessProbe:
            httpGet: {path: /readyz, port: http}
            initialDelaySeconds: {{ $root.Values.probes.initialDelaySeconds }}
            periodSeconds: {{ $root.Values.probes.periodSeconds }}
            timeoutSeconds: {{ $root.Values.probes.timeoutSeconds }}
            failureThreshold: {{ $root.Values.probes.failureThreshold }}
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            # Read-only root: MLflow downloads models and Python writes temp files here.
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir: {}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullName }}
  labels:
    {{- include "prometeo.labels" $root | nindent 4 }}
    {{- include "prometeo.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
spec:
  type: {{ dig "service" "type" "ClusterIP" $svc }}
  selector:
    {{- include "prometeo.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $svc.port }}
      targetPort: http
      protocol: TCP
{{- if $svc.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $fullName }}
  labels:
    {{- include "prometeo.labels" $root | nindent 4 }}
    {{- include "prometeo.selectorLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $fullName }}
  minReplicas: {{ $svc.autoscaling.minReplicas }}
  maxReplicas: {{ $svc.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $svc.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- end }}
{{- end -}}
