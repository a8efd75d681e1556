//! Prometheus metrics, served as text at `/metrics`.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Every metric the server keeps. Names start with `caravan_`.
pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub connections: IntGauge,
    /// WebSocket connections accepted since start.
    pub connections_total: IntCounter,
    /// Rooms (trip documents) loaded in memory.
    pub docs_loaded: IntGauge,
    /// Documents loaded from the store since start.
    pub doc_loads_total: IntCounter,
    /// Documents unloaded since start.
    pub doc_unloads_total: IntCounter,
    /// Updates received from clients and the REST API, and applied.
    pub updates_in_total: IntCounter,
    /// Updates sent to clients (one per receiving connection).
    pub updates_out_total: IntCounter,
    /// Bytes of WebSocket messages received.
    pub bytes_in_total: IntCounter,
    /// Bytes of WebSocket messages sent.
    pub bytes_out_total: IntCounter,
    /// Time a group-commit flush of the store takes.
    pub flush_seconds: Histogram,
    /// Compactions of a trip's log into its snapshot.
    pub compactions_total: IntCounter,
    /// Errors and refusals, by kind (`malformed_message`, `slow_consumer`, `storage`, ...).
    pub errors_total: IntCounterVec,
    /// Bytes free on the data directory's filesystem, at the last measure (every second).
    pub data_free_bytes: IntGauge,
    /// 1 once the store failed (see `document::store_health`), else 0.
    pub store_failed: IntGauge,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("unique metric");
            g
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let flush_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "caravan_persist_flush_seconds",
                "Time a group-commit flush of the store takes",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
        )
        .expect("valid metric");
        registry
            .register(Box::new(flush_seconds.clone()))
            .expect("unique metric");
        let errors_total = IntCounterVec::new(
            Opts::new("caravan_errors_total", "Errors and refusals, by kind"),
            &["kind"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(errors_total.clone()))
            .expect("unique metric");
        Metrics {
            connections: gauge("caravan_connections", "Open WebSocket connections"),
            connections_total: counter(
                "caravan_connections_total",
                "WebSocket connections accepted",
            ),
            docs_loaded: gauge(
                "caravan_docs_loaded",
                "Trip documents loaded in memory (rooms)",
            ),
            doc_loads_total: counter("caravan_doc_loads_total", "Documents loaded from the store"),
            doc_unloads_total: counter(
                "caravan_doc_unloads_total",
                "Documents unloaded from memory",
            ),
            updates_in_total: counter("caravan_updates_in_total", "Updates received and applied"),
            updates_out_total: counter(
                "caravan_updates_out_total",
                "Updates sent to clients, one per receiving connection",
            ),
            bytes_in_total: counter(
                "caravan_bytes_in_total",
                "Bytes of WebSocket messages received",
            ),
            bytes_out_total: counter(
                "caravan_bytes_out_total",
                "Bytes of WebSocket messages sent",
            ),
            compactions_total: counter(
                "caravan_compactions_total",
                "Log compactions into snapshots",
            ),
            data_free_bytes: gauge(
                "caravan_data_free_bytes",
                "Bytes free on the data directory's filesystem",
            ),
            store_failed: gauge(
                "caravan_store_failed",
                "1 once the store failed: writes are refused and the server will exit",
            ),
            flush_seconds,
            errors_total,
            registry,
        }
    }

    /// The registry, for metrics of other parts of the process (the assistant's).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Counts one error of `kind`.
    pub fn error(&self, kind: &str) {
        self.errors_total.with_label_values(&[kind]).inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding to memory");
        String::from_utf8(out).expect("prometheus text is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
