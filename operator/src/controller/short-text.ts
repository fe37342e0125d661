/**
 * Shortening text for the places that bound it (a condition message for a terminal, an Event note
 * for the API server), pure. Text is cut between its "; "-separated clauses, so what is kept
 * reads whole, and says how many clauses it left out; only a first clause too long on its own is
 * cut inside, with an ellipsis.
 */

/** CLAUSE_SEPARATOR joins the clauses of a message: causes, problems, unknown signals. */
export const CLAUSE_SEPARATOR = '; ';

/**
 * shortenByClauses returns `text` when `fits(text)`, else its leading clauses followed by
 * `; +N more` (and `where` when given, e.g. `see Events`), else its first clause cut with `…`.
 * `fits` must accept some prefix of one character plus the ellipsis.
 */
export function shortenByClauses(text: string, fits: (text: string) => boolean, where?: string): string {
  if (fits(text)) return text;
  const clauses = text.split(CLAUSE_SEPARATOR);
  for (let kept = clauses.length - 1; kept >= 1; kept--) {
    const more = `+${clauses.length - kept} more${where ? ` (${where})` : ''}`;
    const candidate = [...clauses.slice(0, kept), more].join(CLAUSE_SEPARATOR);
    if (fits(candidate)) return candidate;
  }
  return cutInside(clauses[0] ?? '', fits);
}

/** cutInside keeps the longest prefix of `text` (whole code points) that fits with an ellipsis. */
function cutInside(text: string, fits: (text: string) => boolean): string {
  const points = Array.from(text);
  let low = 0;
  let high = points.length;
  // Binary search: fits is monotone in the prefix's length for every bound used here.
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(`${points.slice(0, middle).join('')}…`)) low = middle;
    else high = middle - 1;
  }
  return `${points.slice(0, low).join('').trimEnd()}…`;
}
