package config

// Field is one setting: where it is written in each layer, which front ends
// read it, and what values it takes. Its type is the type of the Config
// field at Key.
type Field struct {
	// Key is the setting's path in the YAML file, e.g. assembly.idle.
	Key string
	// Flag is the command-line flag (without dashes); "" for none.
	Flag string
	// Env is the environment variable; "" for none.
	Env string
	// Plugin is the Fluent Bit [OUTPUT] key; "" for none.
	Plugin string
	// Fronts are the front ends whose flags (or keys) include it. The file
	// and the environment are read the same way by every front end.
	Fronts Front
	// Positive refuses zero and negative values: zero is not "unlimited"
	// and must not silently become the default.
	Positive bool
	// OneOf lists the values allowed (compared without case).
	OneOf []string
	// Help is the flag's usage text.
	Help string
}

const (
	all  = Scan | Consume | Plugin
	conn = Scan | Consume | Setup | Plugin
)

// Fields is every setting of every front end, in the order of the usage
// texts. The table is the single place where a setting is named.
var Fields = []Field{
	{Key: "kafka.brokers", Flag: "brokers", Env: "OOPSFLOW_KAFKA_BROKERS", Fronts: Consume, Help: "Kafka brokers host:port[,host:port]"},
	{Key: "kafka.topic", Flag: "topic", Env: "OOPSFLOW_KAFKA_TOPIC", Fronts: Consume, Help: "topic of fleet syslog, keyed by host"},
	{Key: "kafka.group", Flag: "group", Env: "OOPSFLOW_KAFKA_GROUP", Fronts: Consume, Help: "consumer group"},
	{Key: "kafka.start", Flag: "start", Fronts: Consume, OneOf: []string{"first", "last"}, Help: "where a partition without a committed offset starts: first or last"},
	{Key: "kafka.tls.enabled", Flag: "kafka-tls", Fronts: Consume, Help: "connect to the brokers with TLS"},
	{Key: "kafka.tls.ca_file", Flag: "kafka-ca", Fronts: Consume, Help: "PEM CA bundle for the brokers' certificates"},
	{Key: "kafka.tls.cert_file", Flag: "kafka-cert", Fronts: Consume, Help: "client certificate (mutual TLS)"},
	{Key: "kafka.tls.key_file", Flag: "kafka-key", Fronts: Consume, Help: "client key (mutual TLS)"},
	{Key: "kafka.tls.insecure_skip_verify", Fronts: Consume},
	{Key: "kafka.sasl.mechanism", Flag: "kafka-sasl-mechanism", Fronts: Consume, Help: "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (password: env OOPSFLOW_KAFKA_PASSWORD or kafka.sasl.password_file)"},
	{Key: "kafka.sasl.username", Flag: "kafka-sasl-user", Fronts: Consume, Help: "SASL user name"},
	{Key: "kafka.sasl.password", Env: "OOPSFLOW_KAFKA_PASSWORD", Fronts: Consume},
	{Key: "kafka.sasl.password_file", Fronts: Consume},

	{Key: "output", Flag: "output", Plugin: "Output", Fronts: all, OneOf: []string{"elasticsearch", "ndjson"}, Help: "where documents go: elasticsearch or ndjson"},
	{Key: "elasticsearch.urls", Flag: "es-url", Env: "OOPSFLOW_ES_URL", Plugin: "Es_Url", Fronts: conn, Help: "Elasticsearch URL(s), comma-separated"},
	{Key: "elasticsearch.cloud_id", Flag: "es-cloud-id", Env: "OOPSFLOW_ES_CLOUD_ID", Plugin: "Es_Cloud_Id", Fronts: conn, Help: "Elastic Cloud ID instead of --es-url"},
	{Key: "elasticsearch.api_key", Flag: "es-api-key", Env: "OOPSFLOW_ES_API_KEY", Plugin: "Es_Api_Key", Fronts: conn, Help: "API key, base64 id:key (better in the environment: flags show in ps)"},
	{Key: "elasticsearch.api_key_file", Fronts: conn},
	{Key: "elasticsearch.username", Flag: "es-user", Env: "OOPSFLOW_ES_USER", Plugin: "Es_User", Fronts: conn, Help: "basic auth user"},
	{Key: "elasticsearch.password", Flag: "es-password", Env: "OOPSFLOW_ES_PASSWORD", Plugin: "Es_Password", Fronts: conn, Help: "basic auth password (better in the environment: flags show in ps)"},
	{Key: "elasticsearch.password_file", Fronts: conn},
	{Key: "elasticsearch.ca_file", Flag: "es-ca", Env: "OOPSFLOW_ES_CA", Plugin: "Es_Ca_File", Fronts: conn, Help: "PEM file of the CA that signed the cluster's certificate"},
	{Key: "elasticsearch.insecure_skip_verify", Flag: "es-insecure", Plugin: "Es_Insecure", Fronts: conn, Help: "do not verify the cluster's TLS certificate (testing only)"},
	{Key: "elasticsearch.namespace", Flag: "es-namespace", Env: "OOPSFLOW_ES_NAMESPACE", Plugin: "Es_Namespace", Fronts: conn, Help: "data stream namespace: documents go to logs-kernel.oops-<namespace>"},
	{Key: "elasticsearch.dead_letter_file", Flag: "dead-letter", Plugin: "Dead_Letter", Fronts: all, Help: "file for documents Elasticsearch rejects for good (created at the first rejection)"},
	{Key: "elasticsearch.max_in_flight", Flag: "es-max-in-flight", Plugin: "Es_Max_In_Flight", Fronts: all, Positive: true, Help: "documents held until Elasticsearch has them; reading waits beyond that"},
	{Key: "elasticsearch.timeout", Flag: "es-timeout", Fronts: Scan | Consume | Setup, Positive: true, Help: "how long to wait for Elasticsearch to make room for a document, and at the end for documents to be indexed"},
	{Key: "elasticsearch.request_timeout", Flag: "es-request-timeout", Plugin: "Es_Request_Timeout", Fronts: conn, Positive: true, Help: "one request to Elasticsearch, answer included"},

	{Key: "records.host_keys", Plugin: "Host_Key", Fronts: Consume | Plugin},
	{Key: "records.message_keys", Plugin: "Message_Key", Fronts: Consume | Plugin},
	{Key: "records.time_keys", Fronts: Consume},
	{Key: "records.ident_keys", Fronts: Consume},

	{Key: "assembly.max_report_lines", Flag: "max-report-lines", Plugin: "Max_Report_Lines", Fronts: all, Positive: true, Help: "lines per report before it is closed as max_lines"},
	{Key: "assembly.max_hosts", Flag: "max-hosts", Plugin: "Max_Hosts", Fronts: all, Positive: true, Help: "hosts with assembly state; the least recently seen is evicted (nearly: see docs/operations.md)"},
	{Key: "assembly.max_open_bytes", Flag: "max-open-bytes", Plugin: "Max_Open_Bytes", Fronts: all, Positive: true, Help: "bytes held in open reports and context lines; over it the oldest open report is closed as memory_limit"},
	{Key: "assembly.context_lines", Flag: "context-lines", Plugin: "Context_Lines", Fronts: all, Positive: true, Help: "lines remembered per host as context for the next report"},
	{Key: "assembly.max_line_bytes", Flag: "max-line-bytes", Fronts: Scan, Positive: true, Help: "longer input lines are cut"},
	{Key: "assembly.idle", Flag: "idle", Plugin: "Idle", Fronts: all, Positive: true, Help: "log time after which a host's unfinished report is closed as idle"},
	{Key: "assembly.wall_idle", Flag: "wall-idle", Plugin: "Wall_Idle", Fronts: Consume | Plugin, Positive: true, Help: "wall-clock time without lines after which open reports are closed"},

	{Key: "webhook", Flag: "webhook", Plugin: "Webhook", Fronts: all, Help: "generic JSON webhook for alerts, signed with env OOPSFLOW_WEBHOOK_SECRET when set (more receivers: alerts in the file)"},
	{Key: "signatures", Flag: "signatures", Plugin: "Signatures", Fronts: all, Help: "knowledge base directory, added to the built-in signatures (repeatable; a signature with a built-in id replaces it)"},
	{Key: "no_builtin_signatures", Flag: "no-builtin-signatures", Plugin: "No_Builtin_Signatures", Fronts: all, Help: "use only the --signatures directories"},
	{Key: "upstream_index", Flag: "upstream-index", Plugin: "Upstream_Index", Fronts: all, Help: "syzbot bug index (oopsflow upstream sync) to link reports to upstream fixes: a file, auto (the default file if it exists) or off"},
	{Key: "metrics_addr", Flag: "metrics-addr", Fronts: Consume, Help: "address for /metrics, /healthz and /readyz (empty: off)"},
	{Key: "log_level", Flag: "log-level", Fronts: Consume, OneOf: []string{"debug", "info", "warn", "error"}, Help: "debug, info, warn or error"},

	{Key: "fluent_bit.id", Plugin: "Id", Fronts: Plugin},
	{Key: "fluent_bit.path", Plugin: "Path", Fronts: Plugin},
	{Key: "fluent_bit.hostname", Plugin: "Hostname", Fronts: Plugin},
	{Key: "fluent_bit.retry_wait", Plugin: "Retry_Wait", Fronts: Plugin, Positive: true},
	{Key: "fluent_bit.max_pending_chunks", Plugin: "Max_Pending_Chunks", Fronts: Plugin, Positive: true},
	{Key: "fluent_bit.exit_timeout", Plugin: "Exit_Timeout", Fronts: Plugin, Positive: true},
}

// The configuration file's own settings, read before the others.
const (
	// FileFlag is the flag naming the YAML file.
	FileFlag = "config"
	// FileEnv is the environment variable naming the YAML file.
	FileEnv = "OOPSFLOW_CONFIG"
	// FilePlugin is the Fluent Bit key naming the YAML file.
	FilePlugin = "Config"
	// AlertsFilePlugin is the Fluent Bit key naming a YAML file of which
	// only the alerts section is read (older configurations).
	AlertsFilePlugin = "Alerts_Config"
)

// PluginKeys lists the Fluent Bit [OUTPUT] keys the plugin reads. Fluent
// Bit's core keeps "Host" (and Match, Workers, Retry_Limit, ...) for itself,
// so the fallback host name is "Hostname".
func PluginKeys() []string {
	keys := []string{FilePlugin, AlertsFilePlugin}
	for _, f := range Fields {
		if f.Plugin != "" && f.Fronts&Plugin != 0 {
			keys = append(keys, f.Plugin)
		}
	}
	return keys
}
