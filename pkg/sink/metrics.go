package sink

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what the outputs deliver, per output name. They are
// registered in the registry given to NewMetrics (no global state).
type Metrics struct {
	// Queued counts incidents taken (spooled); Delivered those the remote
	// end accepted.
	Queued    *prometheus.CounterVec
	Delivered *prometheus.CounterVec
	// Retries counts deliveries tried again after a failure; Failures the
	// failed attempts, by reason (network, status code, ...).
	Retries  *prometheus.CounterVec
	Failures *prometheus.CounterVec
	// Rejected counts incidents the remote end refused for good (a 4xx
	// other than 429); they are kept in the spool's rejected.jsonl.
	Rejected *prometheus.CounterVec
	// SpoolBytes and SpoolPending are the spool's size and its part not yet
	// delivered; SpoolFull counts incidents refused because it was full,
	// SpoolCorrupt damaged records stepped over.
	SpoolBytes   *prometheus.GaugeVec
	SpoolPending *prometheus.GaugeVec
	SpoolFull    *prometheus.CounterVec
	SpoolCorrupt *prometheus.GaugeVec
}

// NewMetrics makes the output metrics and registers them in reg (nil: in
// none, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	l := []string{"output"}
	m := &Metrics{
		Queued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_output_queued_total", Help: "Incidents an output took into its spool."}, l),
		Delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_output_delivered_total", Help: "Incidents an output delivered to its remote end."}, l),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_output_retries_total", Help: "Deliveries tried again after a failure."}, l),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_output_failures_total", Help: "Failed delivery attempts, by reason (network, HTTP status)."},
			[]string{"output", "reason"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_output_rejected_total", Help: "Incidents the remote end refused for good (kept in the spool's rejected.jsonl)."}, l),
		SpoolBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sigtail_output_spool_bytes", Help: "Size of an output's spool on disk."}, l),
		SpoolPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sigtail_output_spool_pending_bytes", Help: "Bytes of an output's spool not yet delivered."}, l),
		SpoolFull: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sigtail_output_spool_full_total", Help: "Incidents refused because the output's spool was full."}, l),
		SpoolCorrupt: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sigtail_output_spool_corrupt_records", Help: "Damaged spool records stepped over since start."}, l),
	}
	if reg != nil {
		reg.MustRegister(m.Queued, m.Delivered, m.Retries, m.Failures, m.Rejected, m.SpoolBytes, m.SpoolPending, m.SpoolFull, m.SpoolCorrupt)
	}
	return m
}
