package abci

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/regledger/regledger/ledger"
)

// Metrics are the application's Prometheus metrics. A nil *Metrics records nothing.
type Metrics struct {
	checkTxs *prometheus.CounterVec
	txs      prometheus.Counter
	finalize prometheus.Histogram
	commit   prometheus.Histogram
	height   prometheus.Gauge
}

// NewMetrics registers the application's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		checkTxs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "regledger", Subsystem: "abci", Name: "check_tx_total",
			Help: "CheckTx calls by result code."}, []string{"code"}),
		txs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "regledger", Subsystem: "abci", Name: "finalized_txs_total",
			Help: "Transactions in finalized blocks, committed or refused."}),
		finalize: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "regledger", Subsystem: "abci", Name: "finalize_block_seconds",
			Help: "Time to apply a block.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "regledger", Subsystem: "abci", Name: "commit_seconds",
			Help: "Time to persist a block.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		height: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "regledger", Subsystem: "abci", Name: "height",
			Help: "Last committed height."}),
	}
	reg.MustRegister(m.checkTxs, m.txs, m.finalize, m.commit, m.height)
	return m
}

func (m *Metrics) checkTx(c ledger.Code) {
	if m != nil {
		m.checkTxs.WithLabelValues(strconv.FormatUint(uint64(c), 10)).Inc()
	}
}

func (m *Metrics) finalized(n int, d time.Duration) {
	if m != nil {
		m.txs.Add(float64(n))
		m.finalize.Observe(d.Seconds())
	}
}

func (m *Metrics) committed(h int64, d time.Duration) {
	if m != nil {
		m.commit.Observe(d.Seconds())
		m.height.Set(float64(h))
	}
}
