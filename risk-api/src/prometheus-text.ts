/**
 * A reader of the Prometheus text exposition format, enough for the load generator's report and
 * the tests: samples by metric name with their labels.
 */

/** One sample: its labels and value. */
export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** parsePrometheusText returns every sample by metric name; comments and blank lines are skipped. */
export function parsePrometheusText(text: string): Map<string, Sample[]> {
  const samples = new Map<string, Sample[]>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL))
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    const value = Number(m[3]);
    const list = samples.get(m[1] as string) ?? [];
    list.push({ labels, value });
    samples.set(m[1] as string, list);
  }
  return samples;
}

/** sumSamples adds the values of `name` whose labels include `match`; 0 when there are none. */
export function sumSamples(
  samples: ReadonlyMap<string, readonly Sample[]>,
  name: string,
  match: Readonly<Record<string, string>> = {},
): number {
  let total = 0;
  for (const s of samples.get(name) ?? []) {
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}
