import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useT } from "./i18n.ts";

/**
 * A time-series chart drawn by uPlot. Screen readers get the caption and the latest value of every
 * series as text; the canvas itself is hidden from them.
 */
export type Line = { readonly label: string; readonly values: readonly number[]; readonly color: string };

export function Chart(props: {
  title: string;
  /** Times in ms since the epoch, oldest first. */
  at: readonly number[];
  lines: readonly Line[];
  format?: (n: number) => string;
  bars?: boolean;
}) {
  const { t } = useT();
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.lines.map((l) => l.label + l.color).join("|") + (props.bars ? "b" : "");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = props.format ?? ((n: number) => String(Math.round(n)));
    const bars = uPlot.paths.bars?.({ size: [0.8, 40] });
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: 180,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [
        { stroke: "currentColor", grid: { stroke: "rgba(128,128,128,0.2)" } },
        {
          stroke: "currentColor",
          grid: { stroke: "rgba(128,128,128,0.2)" },
          size: 60,
          values: (_u, splits) => splits.map((v) => fmt(v)),
        },
      ],
      series: [
        {},
        ...props.lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          fill: `${l.color}33`,
          width: 2,
          value: (_u: uPlot, v: number | null) => (v === null ? "—" : fmt(v)),
          ...(props.bars && bars ? { paths: bars } : {}),
        })),
      ],
    };
    const u = new uPlot(opts, [[], ...props.lines.map(() => [])] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(240, el.clientWidth), height: 180 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series change; new points go through setData below.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData([
      props.at.map((x) => x / 1000),
      ...props.lines.map((l) => [...l.values]),
    ] as uPlot.AlignedData);
  }, [props.at, props.lines]);

  const empty = props.at.length === 0;
  const latest = props.lines
    .map(
      (l) =>
        `${l.label}: ${l.values.length ? (props.format ?? String)(l.values[l.values.length - 1] ?? 0) : "—"}`,
    )
    .join(", ");
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} aria-hidden="true" />
      <p class="sr-only">{empty ? t("chart.noData") : latest}</p>
    </figure>
  );
}
