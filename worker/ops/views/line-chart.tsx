/** @jsxImportSource hono/jsx */
/**
 * A line chart as inline SVG, server-rendered: no script, no style attribute (the console's CSP
 * allows neither inline), presentation attributes only. Gaps (null) break a line.
 */
export interface ChartSeries {
  name: string;
  color: string;
  points: [x: number, y: number | null][];
}

export interface LineChartProps {
  title: string;
  unit: string;
  series: ChartSeries[];
  formatX(x: number): string;
  width?: number;
  height?: number;
}

const PAD = { left: 56, right: 12, top: 28, bottom: 34 };

/** 1, 2 or 5 times a power of ten: an axis maximum a person reads at a glance. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((s) => s * power >= value) ?? 10;
  return step * power;
}

const label = (v: number) =>
  v >= 1000
    ? `${Number((v / 1000).toPrecision(3))}k`
    : v >= 10
      ? String(Math.round(v))
      : String(Number(v.toPrecision(2)));

export function LineChart(props: LineChartProps) {
  const width = props.width ?? 560;
  const height = props.height ?? 220;
  const xs = props.series.flatMap((s) => s.points.map(([x]) => x));
  const ys = props.series.flatMap((s) => s.points.flatMap(([, y]) => (y === null ? [] : [y])));
  const minX = Math.min(...xs);
  const maxX = Math.max(...xs);
  const maxY = niceMax(Math.max(0, ...ys));
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const px = (x: number) => PAD.left + (maxX > minX ? ((x - minX) / (maxX - minX)) * plotW : plotW / 2);
  const py = (y: number) => PAD.top + plotH - (y / maxY) * plotH;
  /** Runs of consecutive points; a run of one is drawn as a dot, since a line needs two. */
  const runs = (points: ChartSeries["points"]) => {
    const out: [number, number][][] = [];
    let current: [number, number][] = [];
    for (const [x, y] of points) {
      if (y === null) {
        if (current.length) out.push(current);
        current = [];
      } else current.push([px(x), py(y)]);
    }
    if (current.length) out.push(current);
    return out;
  };
  // Five steps when the maximum is 5×10ⁿ (1, 2, 3…), four otherwise (0.5, 1, 1.5…): round labels either way.
  const steps = String(maxY).startsWith("5") ? 5 : 4;
  const ticks = Array.from({ length: steps + 1 }, (_, i) => (i * maxY) / steps);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-label={`${props.title} (${props.unit})`}
        data-chart={props.title}
        data-max={Math.max(0, ...ys)}
      >
        <text x={PAD.left} y={16} font-size="13" font-weight="bold" fill="#222">
          {props.title}{" "}
          <tspan font-weight="normal" fill="#666">
            ({props.unit})
          </tspan>
        </text>
        {ticks.map((t) => (
          <g>
            <line x1={PAD.left} x2={width - PAD.right} y1={py(t)} y2={py(t)} stroke="#e3e3e3" />
            <text x={PAD.left - 6} y={py(t) + 4} font-size="10" text-anchor="end" fill="#666">
              {label(t)}
            </text>
          </g>
        ))}
        {xs.length > 0 &&
          [minX, (minX + maxX) / 2, maxX].map((x, i) => (
            <text
              x={px(x)}
              y={height - PAD.bottom + 14}
              font-size="10"
              text-anchor={i === 0 ? "start" : i === 2 ? "end" : "middle"}
              fill="#666"
            >
              {props.formatX(x)}
            </text>
          ))}
        {props.series.map((s) =>
          runs(s.points).map((run) => {
            const [only] = run;
            return run.length === 1 && only ? (
              <circle cx={only[0].toFixed(1)} cy={only[1].toFixed(1)} r="2.5" fill={s.color} data-series={s.name} />
            ) : (
              <polyline
                points={run.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ")}
                fill="none"
                stroke={s.color}
                stroke-width="1.8"
                data-series={s.name}
              />
            );
          }),
        )}
        {props.series.map((s, i) => {
          // Each legend entry starts after the previous names (about 6.5 px a character at 11 px).
          const x = PAD.left + props.series.slice(0, i).reduce((sum, p) => sum + 30 + p.name.length * 6.5, 0);
          return (
            <g>
              <rect x={x} y={height - 12} width={10} height={10} fill={s.color} />
              <text x={x + 14} y={height - 3} font-size="11" fill="#333">
                {s.name}
              </text>
            </g>
          );
        })}
        {ys.length === 0 && (
          <text x={PAD.left + plotW / 2} y={PAD.top + plotH / 2} font-size="12" text-anchor="middle" fill="#999">
            no data yet
          </text>
        )}
      </svg>
    </figure>
  );
}
