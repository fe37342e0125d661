/** A seeded pseudo-random source (mulberry32), so every simulation run is reproducible. */
export interface SeededRandom {
  /** uniform: a number in [0, 1). */
  uniform(): number;
  /** normal: a standard normal draw (Box–Muller). */
  normal(): number;
}

/** Creates a seeded random source; equal seeds give equal sequences. */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0 || 0x9e3779b9;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    uniform,
    normal: () => {
      const u = Math.max(uniform(), 1e-12);
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
    },
  };
}
