/** @jsxImportSource hono/jsx */
import { expect, test } from "bun:test";
import { LineChart, niceMax } from "./line-chart.tsx";

test("axis maxima are 1, 2 or 5 times a power of ten", () => {
  expect([0, 0.07, 3, 4, 7, 11, 240].map(niceMax)).toEqual([1, 0.1, 5, 5, 10, 20, 500]);
});

test("draws lines through runs of points, dots for lone points, nothing for gaps; escapes text", async () => {
  const svg = await (
    <LineChart
      title="Queue <latency>"
      unit="s"
      formatX={(x) => String(x)}
      series={[
        {
          name: "p50",
          color: "#00f",
          points: [
            [0, 1],
            [1, 2],
            [2, null],
            [3, 4],
            [4, null],
          ],
        },
        {
          name: "p99",
          color: "#f0f",
          points: [
            [0, null],
            [1, null],
          ],
        },
      ]}
    />
  ).toString();
  expect(svg.match(/<polyline[^>]*data-series="p50"/g)).toHaveLength(1);
  expect(svg.match(/<circle[^>]*data-series="p50"/g)).toHaveLength(1);
  expect(svg).not.toContain('polyline fill="none" stroke="#f0f"');
  expect(svg).toContain("Queue &lt;latency&gt;");
  expect(svg).not.toContain("style=");
  const empty = await (
    <LineChart title="T" unit="u" formatX={String} series={[{ name: "a", color: "#000", points: [] }]} />
  ).toString();
  expect(empty).toContain("no data yet");
});
