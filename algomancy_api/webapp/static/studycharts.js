// A study's charts (Chart.js, through the experiments' chart hook): the optimisation
// history of one objective (each trial's value and the best so far) and the Pareto
// scatter of two objectives (every feasible trial, the Pareto set highlighted).
import { html, useMemo, useState } from "../vendor/htm-preact/standalone.module.js";
import { Select, decimate, scatterChart, useChart } from "./expcharts.js";
import { formatNumber } from "./ui.js";

/** At most this many trials drawn (an even sample beyond). */
export const MAX_TRIALS = 2000;
const BLUE = "rgba(37, 99, 235, 0.7)";
const ORANGE = "rgba(234, 88, 12, 0.95)";
const GREY = "rgba(107, 114, 128, 0.45)";

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);

/** Whether a trials-frame row meets the study's constraints (`{kpi, max?, min?}`). */
export function meets(row, constraints) {
  return (constraints || []).every((c) => {
    const v = row[c.kpi];
    return isNumber(v) && (c.max === undefined || c.max === null || v <= c.max) && (c.min === undefined || c.min === null || v >= c.min);
  });
}

/**
 * The history of objective `kpi` (`direction` minimize or maximize): each complete
 * trial's value by number, and the best feasible value so far after each of them.
 */
export function history(rows, kpi, direction, constraints) {
  const done = rows.filter((r) => r.state === "complete" && isNumber(r[kpi])).sort((a, b) => a.number - b.number);
  const better = (a, b) => (direction === "maximize" ? a > b : a < b);
  let best = null;
  const trials = [];
  const bestSoFar = [];
  for (const r of done) {
    const ok = meets(r, constraints);
    if (ok && (best === null || better(r[kpi], best))) best = r[kpi];
    trials.push({ x: r.number, y: r[kpi], feasible: ok });
    if (best !== null) bestSoFar.push({ x: r.number, y: best });
  }
  return { trials, bestSoFar };
}

const axisTitle = (o) => `${o.kpi} (${o.direction === "maximize" ? "maximised" : "minimised"})`;

/** Each complete trial's value of one objective, and the best so far (a step line). */
export function HistoryChart({ rows, study }) {
  const objectives = study.objectives;
  const [chosen, setChosen] = useState(objectives[0].kpi);
  const objective = objectives.find((o) => o.kpi === chosen) || objectives[0];
  const { trials, bestSoFar } = useMemo(
    () => history(rows, objective.kpi, objective.direction, study.constraints),
    [rows, objective.kpi]
  );
  const shown = decimate(trials, MAX_TRIALS);
  const canvas = useChart(
    (el) =>
      scatterChart(el, {
        datasets: [
          { label: "trial", data: shown, backgroundColor: shown.map((p) => (p.feasible ? BLUE : GREY)), pointRadius: shown.length > 500 ? 2 : 4 },
          { type: "line", label: "best so far", data: decimate(bestSoFar, MAX_TRIALS), borderColor: ORANGE, backgroundColor: ORANGE, stepped: true, pointRadius: 0, borderWidth: 2 },
        ],
        label: (p) => `#${p.x}: ${formatNumber(p.y)}`,
        x: "trial",
        y: axisTitle(objective),
        xTicks: { precision: 0 },
      }),
    [shown, bestSoFar, objective.kpi]
  );
  const last = bestSoFar[bestSoFar.length - 1];
  return html`<section class="panel" aria-labelledby="history-title" data-testid="study-history">
    <h2 id="history-title">Optimisation history</h2>
    ${objectives.length > 1 && html`<div class="row"><${Select} id="history-kpi" label="Objective" value=${objective.kpi} options=${objectives.map((o) => o.kpi)} onChange=${setChosen} /></div>`}
    <div class="exp-chart"><canvas ref=${canvas} role="img" data-shown=${shown.length}
      aria-label=${`${objective.kpi} of ${trials.length} complete trials${last ? `, best so far ${formatNumber(last.y)}` : ""}`}></canvas></div>
    <p class="small muted">Blue: a trial's ${objective.kpi}${study.constraints.length ? " (grey: it breaks a constraint)" : ""}; orange: the best feasible value so far.</p>
  </section>`;
}

/** Two objectives against each other (a study of two or more): the complete trials, the Pareto set in orange. */
export function ParetoChart({ rows, study }) {
  const objectives = study.objectives;
  const [xo, yo] = objectives;
  const front = new Set((study.pareto || []).map((t) => t.number));
  const points = useMemo(
    () =>
      rows
        .filter((r) => r.state === "complete" && isNumber(r[xo.kpi]) && isNumber(r[yo.kpi]))
        .map((r) => ({ x: r[xo.kpi], y: r[yo.kpi], number: r.number, front: front.has(r.number), ok: meets(r, study.constraints) })),
    [rows, study]
  );
  const sorted = points.filter((p) => p.front).sort((a, b) => a.x - b.x);
  const others = decimate(points.filter((p) => !p.front), MAX_TRIALS);
  const canvas = useChart(
    (el) =>
      scatterChart(el, {
        datasets: [
          { label: "trial", data: others, backgroundColor: others.map((p) => (p.ok ? BLUE : GREY)), pointRadius: 4 },
          { label: "Pareto set", data: sorted, backgroundColor: ORANGE, borderColor: ORANGE, pointRadius: 6, showLine: true, borderWidth: 1 },
        ],
        label: (p) => `#${p.number}: ${formatNumber(p.x)}, ${formatNumber(p.y)}`,
        x: axisTitle(xo),
        y: axisTitle(yo),
      }),
    [points]
  );
  return html`<section class="panel" aria-labelledby="pareto-title" data-testid="study-pareto">
    <h2 id="pareto-title">Pareto front</h2>
    <div class="exp-chart"><canvas ref=${canvas} role="img" data-shown=${points.length} data-front=${sorted.length}
      aria-label=${`${yo.kpi} against ${xo.kpi}: ${points.length} complete trials, ${sorted.length} on the Pareto front`}></canvas></div>
    <p class="small muted">Orange: the Pareto set (no other feasible trial is as good in both and better in one)${objectives.length > 2 ? `; the first two of ${objectives.length} objectives` : ""}.</p>
  </section>`;
}
