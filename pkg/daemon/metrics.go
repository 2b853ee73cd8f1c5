package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are what the daemon exposes on /metrics. They live in their own
// registry (no global state), which cmd serves.
type Metrics struct {
	Registry   *prometheus.Registry
	Lines      *prometheus.CounterVec
	Unparsed   *prometheus.CounterVec
	CutLines   *prometheus.CounterVec
	Hits       *prometheus.CounterVec
	Incidents  *prometheus.CounterVec
	FileEvents *prometheus.CounterVec
	Lag        *prometheus.GaugeVec
	Workers    *prometheus.GaugeVec
	SourceUp   *prometheus.GaugeVec
	SinkErrors prometheus.Counter
	Closed     *prometheus.CounterVec
	// The process-table probe: workers per master by state, the configured
	// count, each worker's resident memory, and whether a master runs.
	ProbeWorkers    *prometheus.GaugeVec
	ProbeConfigured *prometheus.GaugeVec
	ProbeRSS        *prometheus.GaugeVec
	ProbeUp         prometheus.Gauge
}

// NewMetrics makes the metrics and registers them in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_lines_read_total", Help: "Lines read, per source."}, []string{"source"}),
		Unparsed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_records_unparsed_total", Help: "Records of no known format, per source."}, []string{"source"}),
		CutLines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_lines_cut_total", Help: "Lines longer than the maximum, cut, per source."}, []string{"source"}),
		Hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_signature_hits_total", Help: "Records that matched, per signature."}, []string{"signature"}),
		Incidents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_incidents_total", Help: "Incidents emitted, per rule, severity and status (open, updated, resolved)."},
			[]string{"rule", "severity", "status"}),
		FileEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_source_events_total", Help: "Rotations, truncations, reopenings and errors, per source."},
			[]string{"source", "event"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sigtail_source_lag_bytes", Help: "Bytes of a file not yet read."}, []string{"source"}),
		Workers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gunicorn_workers_logged", Help: "Live Gunicorn workers per error log, from 'Booting worker' and the lines that end a worker (gunicorn_workers counts them in the process table)."},
			[]string{"source"}),
		SourceUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sigtail_source_up", Help: "1 while a source (file, glob, kernel, journal unit, positions) can be read (saved, for positions), 0 while it cannot; /healthz says why."},
			[]string{"source"}),
		SinkErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sigtail_output_errors_total", Help: "Incidents an output refused."}),
		Closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_groups_closed_early_total", Help: "Groups (incidents and pending windows) closed because a rule had max_groups open, per rule."},
			[]string{"rule"}),
	}
	m.ProbeWorkers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gunicorn_workers", Help: "Gunicorn workers in the process table, per master, working (used CPU since the last sample) or idle."},
		[]string{"master", "state"})
	m.ProbeConfigured = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gunicorn_workers_configured", Help: "The workers a Gunicorn master is configured for (its flags, GUNICORN_CMD_ARGS, config file), when known."},
		[]string{"master"})
	m.ProbeRSS = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gunicorn_worker_rss_bytes", Help: "Resident memory of each Gunicorn worker."}, []string{"master", "pid"})
	m.ProbeUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "gunicorn_up", Help: "1 while a Gunicorn master runs on the host, 0 when none does (the page's up == 0)."})
	m.Registry.MustRegister(m.ProbeWorkers, m.ProbeConfigured, m.ProbeRSS, m.ProbeUp)
	m.Registry.MustRegister(m.Lines, m.Unparsed, m.CutLines, m.Hits, m.Incidents, m.FileEvents, m.Lag, m.Workers, m.SourceUp, m.SinkErrors, m.Closed,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}
