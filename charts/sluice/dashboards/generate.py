#!/usr/bin/env python3
"""Writes sluice-pipelines.json, the Grafana dashboard the chart ships as a ConfigMap.

    python3 charts/sluice/dashboards/generate.py            # rewrite the JSON
    python3 charts/sluice/dashboards/generate.py --check    # exit 1 when the JSON is stale

One row per pipeline (the row repeats over the $pipeline variable): replicas vs desired, lag,
in/out rates, batch p95, dead-letter rate and scale events. The metric names are the contract in
docs/operations.md; operator metrics are labelled {namespace, pipeline}, worker metrics too.
"""
import json
import pathlib
import sys

OUT = pathlib.Path(__file__).with_name("sluice-pipelines.json")
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'namespace=~"$namespace", pipeline=~"$pipeline"'
ROW_SEL = 'namespace=~"$namespace", pipeline="$pipeline"'


def target(expr, legend, ref):
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref, "range": True}


def timeseries(pid, title, x, y, targets, unit="short", description="", overrides=None, bars=False,
               w=8):
    custom = {"drawStyle": "bars" if bars else "line", "lineWidth": 2, "fillOpacity": 10,
              "showPoints": "never", "spanNulls": True}
    return {
        "id": pid, "type": "timeseries", "title": title, "description": description,
        "datasource": DS, "gridPos": {"h": 8, "w": w, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit, "min": 0, "custom": custom},
                        "overrides": overrides or []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "none"}},
        "targets": targets,
    }


def stat(pid, title, x, y, expr, unit="short", w=4, description=""):
    return {
        "id": pid, "type": "stat", "title": title, "description": description, "datasource": DS,
        "gridPos": {"h": 4, "w": w, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area", "textMode": "auto"},
        "targets": [target(expr, "", "A")],
    }


def variable(name, label, query, include_all=True):
    return {
        "name": name, "label": label, "type": "query", "datasource": DS,
        "query": {"query": query, "refId": f"{name}-var"}, "definition": query,
        "refresh": 2, "sort": 1, "multi": True, "includeAll": include_all,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
    }


def overview(y):
    # Totals over the selected pipelines; max() dedupes the operator replicas (only the leader
    # exports pipeline metrics, but a standby that was leader may still hold stale series).
    return [
        stat(1, "Pipelines", 0, y, f"count(max by (namespace, pipeline) (sluice_pipeline_replicas{{{SEL}}}))"),
        stat(2, "Workers", 4, y, f"sum(max by (namespace, pipeline) (sluice_pipeline_replicas{{{SEL}}}))"),
        stat(3, "Total lag", 8, y, f"sum(max by (namespace, pipeline) (sluice_pipeline_lag{{{SEL}}}))"),
        stat(4, "In (msg/s)", 12, y, f"sum(max by (namespace, pipeline) (sluice_pipeline_in_rate{{{SEL}}}))", "ops"),
        stat(5, "Out (msg/s)", 16, y, f"sum(max by (namespace, pipeline) (sluice_pipeline_out_rate{{{SEL}}}))", "ops"),
        stat(6, "Dead-lettered (1h)", 20, y,
             f"sum(increase(sluice_worker_dead_lettered_total{{{SEL}}}[1h]))"),
    ]


def pipeline_row(y):
    row = {"id": 10, "type": "row", "title": "$namespace / $pipeline", "collapsed": False,
           "repeat": "pipeline", "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}
    y += 1
    replicas = timeseries(11, "Replicas vs desired", 0, y, [
        target(f"max(sluice_pipeline_replicas{{{ROW_SEL}}})", "replicas", "A"),
        target(f"max(sluice_pipeline_desired_replicas{{{ROW_SEL}}})", "desired", "B"),
    ], description="Worker pods that exist (replicas) and the count the autoscaler wants (desired).",
        overrides=[{"matcher": {"id": "byName", "options": "desired"},
                    "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]}])
    lag = timeseries(12, "Lag", 8, y, [
        target(f"max(sluice_pipeline_lag{{{ROW_SEL}}})", "lag", "A"),
    ], description="Messages waiting: summed Kafka partition lag, or NATS pending + unacknowledged.")
    rates = timeseries(13, "In / out rate", 16, y, [
        target(f"max(sluice_pipeline_in_rate{{{ROW_SEL}}})", "in", "A"),
        target(f"max(sluice_pipeline_out_rate{{{ROW_SEL}}})", "out", "B"),
    ], unit="ops", description="Messages produced to the source and processed by the workers, per second.")
    y += 8
    p95 = timeseries(14, "Batch duration p95", 0, y, [
        target("histogram_quantile(0.95, sum by (le) (rate(sluice_worker_batch_duration_seconds_bucket"
               f"{{{ROW_SEL}}}[$__rate_interval])))", "p95", "A"),
        target("histogram_quantile(0.50, sum by (le) (rate(sluice_worker_batch_duration_seconds_bucket"
               f"{{{ROW_SEL}}}[$__rate_interval])))", "p50", "B"),
    ], unit="s", description="Time to process and deliver one batch, over all workers of the pipeline.")
    dlq = timeseries(15, "Dead-letter rate", 8, y, [
        target(f"sum(rate(sluice_worker_dead_lettered_total{{{ROW_SEL}}}[$__rate_interval]))", "dead-lettered", "A"),
        target(f"sum(rate(sluice_worker_delivered_total{{{ROW_SEL}}}[$__rate_interval]))", "delivered", "B"),
        target(f"sum(rate(sluice_worker_consumed_total{{{ROW_SEL}}}[$__rate_interval]))", "consumed", "C"),
    ], unit="ops", description="Messages per second the workers consumed, delivered and dead-lettered.",
        overrides=[{"matcher": {"id": "byName", "options": "dead-lettered"},
                    "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}}]}])
    scale = timeseries(16, "Scale events", 16, y, [
        target(f"sum by (direction) (increase(sluice_scale_events_total{{{ROW_SEL}}}[$__rate_interval]))",
               "{{direction}}", "A"),
    ], bars=True, description="Replica count changes made by the autoscaler, by direction (up, down).")
    return [row, replicas, lag, rates, p95, dlq, scale]


def dashboard():
    panels = overview(0) + pipeline_row(4)
    return {
        "uid": "sluice-pipelines",
        "title": "Sluice / Pipelines",
        "description": "Per ConsumerPipeline: replicas vs desired, lag, in/out rates, batch p95, dead-letter rate, scale events.",
        "tags": ["sluice", "kafka", "nats", "autoscaling"],
        "editable": True, "graphTooltip": 1, "schemaVersion": 39, "version": 1,
        "time": {"from": "now-1h", "to": "now"}, "refresh": "30s", "timezone": "",
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0, "options": [], "refresh": 1},
            variable("namespace", "Namespace", "label_values(sluice_pipeline_replicas, namespace)"),
            variable("pipeline", "Pipeline",
                     'label_values(sluice_pipeline_replicas{namespace=~"$namespace"}, pipeline)'),
        ]},
        "annotations": {"list": [
            {"name": "Annotations & Alerts", "builtIn": 1, "type": "dashboard", "enable": True, "hide": True,
             "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "iconColor": "rgba(0, 211, 255, 1)"},
            {"name": "Scale events", "enable": True, "iconColor": "orange", "datasource": DS,
             "expr": f"sum by (namespace, pipeline, direction) (changes(sluice_scale_events_total{{{SEL}}}[1m])) > 0",
             "titleFormat": "scale {{direction}}", "textFormat": "{{namespace}}/{{pipeline}}", "step": "60s"},
        ]},
        "panels": panels,
    }


def main():
    text = json.dumps(dashboard(), indent=2, sort_keys=True) + "\n"
    if "--check" in sys.argv[1:]:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is stale: run python3 {pathlib.Path(__file__)}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
