/**
 * What the unknown signals of a measurement have in common, said once, pure. A Prometheus that
 * does not answer makes every signal unknown with the same error; a condition that repeats it per
 * signal runs to thousands of characters and hides the one cause. So each unknown signal is
 * classified by cause (unreachable, timed out, stale, no series, ...), the signals of one cause
 * are grouped, and the groups are said cause first: "Prometheus at URL unreachable (ENOTFOUND):
 * 10 signals unknown; Redis: 6 of 6 nodes unreachable (ENOTFOUND)".
 *
 * The metric sources say why a signal is unknown with a reason (UnknownReason) and a free-text
 * message; the cause's detail (the error code, the HTTP status, the staleness bound) is read from
 * the message, here and only here.
 */
import { UnknownReason, type UnknownSignal } from '../metrics/index.ts';
import { conditionMessage, MAX_CONDITION_MESSAGE } from './conditions.ts';
import { CLAUSE_SEPARATOR } from './short-text.ts';

/** What went wrong, whatever the signal. */
export type CauseKind =
  | 'unreachable'
  | 'timeout'
  | 'auth'
  | 'http'
  | 'not-prometheus'
  | 'rejected'
  | 'stale'
  | 'empty'
  | 'several-series'
  | 'nan'
  | 'infinite'
  | 'negative'
  | 'unparsable'
  | 'not-queried'
  | 'one-reading'
  | 'failing'
  | 'other';

/** Where an unknown signal comes from. */
export type SignalSource = 'prometheus' | 'redis' | 'kubernetes';

/** The cause of one unknown signal. */
export interface UnknownCause {
  readonly source: SignalSource;
  readonly kind: CauseKind;
  /** detail tells causes of one kind apart: `ENOTFOUND`, `HTTP 503`, `30 s`, `bad_data`. */
  readonly detail?: string;
  /** url is the Prometheus the error names (without credentials), for a Prometheus that failed as a whole. */
  readonly url?: string;
  /** node is the Redis node (`host:port`) of a node-level unknown. */
  readonly node?: string;
}

/** Network error codes of Node.js (and TLS verification failures) worth naming as they are. */
const NETWORK_CODE =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|EPIPE|ECONNABORTED|ETIMEDOUT|ESOCKETTIMEDOUT|CERT_HAS_EXPIRED|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|ERR_TLS_CERT_ALTNAME_INVALID)\b/;
/** What Redis answers a client whose password is missing or wrong. */
const REDIS_AUTH = /\b(NOAUTH|WRONGPASS)\b|invalid (username-)?password/i;
/** A detail longer than this is cut: the full text is in the Event and the log. */
const MAX_DETAIL = 80;

/** sourceOf: Redis INFO unknowns are named `redis` or `redis <host:port>`, ready replicas come from the HPA. */
function sourceOf(signal: string): SignalSource {
  if (signal === 'redis' || signal.startsWith('redis ')) return 'redis';
  return signal === 'readyReplicas' ? 'kubernetes' : 'prometheus';
}

/** detailOf is the message without its leading `signal: `, which the metric sources always add. */
function detailOf(u: UnknownSignal): string {
  const prefix = `${u.signal}: `;
  return u.message.startsWith(prefix) ? u.message.slice(prefix.length) : u.message;
}

function short(text: string): string {
  return text.length <= MAX_DETAIL ? text : `${text.slice(0, MAX_DETAIL - 1).trimEnd()}…`;
}

/**
 * classifyError reads the error of a source that did not answer (Prometheus's or a Redis node's):
 * the network code, the timeout, the HTTP status, Redis's refusal of the password.
 */
export function classifyError(detail: string): Pick<UnknownCause, 'kind' | 'detail'> {
  const rejected = /rejected "(?:[^"\\]|\\.)*": HTTP (\d{3}), ([^:]+):/.exec(detail);
  if (rejected) return { kind: 'rejected', detail: rejected[2] ?? `HTTP ${rejected[1]}` };
  const timeout = /did not answer within (\d+) ms/.exec(detail);
  if (timeout) return { kind: 'timeout', detail: `${timeout[1]} ms` };
  const status = /answered HTTP (\d{3})/.exec(detail);
  if (status) {
    const code = Number(status[1]);
    return { kind: code === 401 || code === 403 ? 'auth' : 'http', detail: `HTTP ${code}` };
  }
  if (/body that is not JSON/.test(detail)) return { kind: 'not-prometheus' };
  const auth = REDIS_AUTH.exec(detail);
  if (auth) return { kind: 'auth', detail: auth[1]?.toUpperCase() ?? 'invalid password' };
  if (/the cluster flags it as failing/.test(detail)) return { kind: 'failing' };
  const code = NETWORK_CODE.exec(detail)?.[1];
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return { kind: 'timeout', detail: code };
  if (code) return { kind: 'unreachable', detail: code };
  if (/\btimed? ?out\b/i.test(detail)) return { kind: 'timeout' };
  const unreachable = /is unreachable: (.+)$/.exec(detail)?.[1];
  if (unreachable) return { kind: 'unreachable', detail: short(unreachable) };
  if (/not connected|connection is closed/i.test(detail))
    return { kind: 'unreachable', detail: 'not connected' };
  return { kind: 'other', detail: short(detail.replace(/^unreachable: |^INFO failed: /, '')) };
}

/**
 * classifyUnknown says why one signal is unknown: from its reason, and for a source that did not
 * answer, from the error in its message (the network code, the HTTP status, Redis's refusal).
 */
export function classifyUnknown(u: UnknownSignal): UnknownCause {
  const source = sourceOf(u.signal);
  const detail = detailOf(u);
  const node = u.signal.startsWith('redis ') ? u.signal.slice('redis '.length) : undefined;
  const where = node ? { node } : {};
  switch (u.reason) {
    case UnknownReason.Stale: {
      const bound = /the (\d+) s staleness bound/.exec(detail)?.[1];
      return { source, kind: 'stale', ...(bound ? { detail: `${bound} s` } : {}) };
    }
    case UnknownReason.Empty:
      return { source, kind: 'empty', ...(source === 'prometheus' ? {} : { detail: short(detail) }) };
    case UnknownReason.MultipleSeries:
      return { source, kind: 'several-series' };
    case UnknownReason.NotANumber:
      return { source, kind: 'nan' };
    case UnknownReason.Infinite:
      return { source, kind: 'infinite' };
    case UnknownReason.Negative:
      return { source, kind: 'negative' };
    case UnknownReason.Unparsable:
      return { source, kind: 'unparsable' };
    case UnknownReason.NotQueried:
      return { source, kind: 'not-queried', detail: short(detail) };
    case UnknownReason.NotEnoughReadings:
      return { source, kind: 'one-reading', ...where };
    case UnknownReason.Unanswered: {
      const url = source === 'prometheus' ? /Prometheus at (\S+) /.exec(detail)?.[1] : undefined;
      const cause = classifyError(detail);
      // A rejected query is the query's fault, not the server's: it is grouped with the other queries.
      const wide = url && cause.kind !== 'rejected' ? { url } : {};
      return { source, ...cause, ...wide, ...where };
    }
    default:
      // A reason this table does not know yet is still grouped, by its own name and text.
      return { source, kind: 'other', detail: short(`${u.reason}: ${detail}`), ...where };
  }
}

/** phrase says a cause in a few words, without its subject. */
function phrase(cause: UnknownCause): string {
  const d = cause.detail;
  const paren = d ? ` (${d})` : '';
  switch (cause.kind) {
    case 'unreachable':
      return `unreachable${paren}`;
    case 'timeout':
      return `timed out${paren}`;
    case 'auth':
      return cause.source === 'redis' ? `refused the password${paren}` : `refused the credentials${paren}`;
    case 'http':
      return `answered ${d ?? 'an HTTP error'}`;
    case 'not-prometheus':
      return 'answered with a body that is not JSON';
    case 'rejected':
      return `query rejected${paren}`;
    case 'stale':
      return d ? `stale (newest sample over ${d} old)` : 'stale';
    case 'empty':
      return d ?? 'no series';
    case 'several-series':
      return 'several series where one is expected';
    case 'nan':
      return 'value NaN';
    case 'infinite':
      return 'value infinite';
    case 'negative':
      return 'value negative';
    case 'unparsable':
      return 'answer unparsable';
    case 'not-queried':
      return `not queried${paren}`;
    case 'one-reading':
      return 'one INFO reading so far';
    case 'failing':
      return 'flagged failing by the cluster';
    case 'other':
      return d ?? 'unknown';
  }
}

/** One cause and what it made unknown: signals, or Redis nodes. */
interface Group {
  readonly key: string;
  readonly cause: UnknownCause;
  readonly members: string[];
}

/** What a summary needs beside the unknown signals. */
export interface SummaryContext {
  /** redisNodesRead: Redis nodes that answered INFO (masters and replicas), for "N of M nodes". */
  readonly redisNodesRead?: number;
}

/** A grouped account of the unknown signals. */
export interface UnknownSummary {
  /** message is cause first and at most MAX_CONDITION_MESSAGE characters: for the condition. */
  readonly message: string;
  /** full names every signal and node of every cause: for the Event (which bounds it itself). */
  readonly full: string;
}

function groupsOf(unknowns: readonly UnknownSignal[]): Group[] {
  const groups = new Map<string, Group>();
  for (const u of unknowns) {
    const cause = classifyUnknown(u);
    // Redis nodes group by cause alone; the node is the member.
    const key = JSON.stringify([cause.source, cause.kind, cause.detail ?? '', cause.url ?? '']);
    const member = cause.node ?? u.signal;
    const group = groups.get(key);
    if (!group) groups.set(key, { key, cause, members: [member] });
    else if (!group.members.includes(member)) group.members.push(member);
  }
  // Whole sources first (what fixes most), then the causes that hit the most signals.
  const wide = (g: Group) =>
    g.cause.url !== undefined || (g.cause.source === 'redis' && g.cause.node !== undefined) ? 0 : 1;
  return [...groups.values()]
    .map((g, i) => ({ g, i }))
    .sort((a, b) => wide(a.g) - wide(b.g) || b.g.members.length - a.g.members.length || a.i - b.i)
    .map(({ g }) => g);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** render says a group, naming its members (`named`) or counting them. */
function render(group: Group, named: boolean, redisTotal: number): string {
  const { cause, members } = group;
  const list = members.join(', ');
  if (cause.source === 'redis' && cause.node !== undefined) {
    const head = `Redis: ${members.length} of ${redisTotal} nodes ${phrase(cause)}`;
    return named ? `${head}: ${list}` : head;
  }
  if (cause.source === 'redis') return `Redis: ${phrase(cause)}`;
  if (cause.url !== undefined) {
    const what = named ? list : `${plural(members.length, 'signal')} unknown`;
    return `Prometheus at ${cause.url} ${phrase(cause)}: ${what}`;
  }
  if (cause.source === 'kubernetes') return `${list}: ${phrase(cause)}`;
  return `${phrase(cause)}: ${named ? list : plural(members.length, 'signal')}`;
}

/**
 * summarizeUnknown groups unknown signals by cause, cause first, whole sources first. The message
 * names the members of each cause while that fits in MAX_CONDITION_MESSAGE, else counts them
 * (the longest first), else leaves the last causes out with "+N more (see Events)".
 */
export function summarizeUnknown(
  unknowns: readonly UnknownSignal[],
  context: SummaryContext = {},
): UnknownSummary {
  const groups = groupsOf(unknowns);
  const nodes = (read: boolean) =>
    groups
      .filter((g) => g.cause.node !== undefined && (g.cause.kind === 'one-reading') === read)
      .reduce((sum, g) => sum + g.members.length, 0);
  // A node with one reading answered; every other node-level cause is a node that did not.
  const redisTotal = Math.max(context.redisNodesRead ?? 0, nodes(true)) + nodes(false);
  const full = groups.map((g) => render(g, true, redisTotal)).join(CLAUSE_SEPARATOR);
  let message = full;
  // Every cause counted beats some causes named: leave causes out only when counting is not enough.
  for (let kept = groups.length; kept >= 1; kept--) {
    const head = groups.slice(0, kept);
    const more = kept < groups.length ? [`+${groups.length - kept} more (see Events)`] : [];
    const named = head.map(() => true);
    const text = () =>
      [...head.map((g, i) => render(g, named[i] ?? false, redisTotal)), ...more].join(CLAUSE_SEPARATOR);
    message = text();
    while (message.length > MAX_CONDITION_MESSAGE && named.some(Boolean)) {
      // Count the members of the longest named cause first.
      const lengths = head.map((g, i) => (named[i] ? render(g, true, redisTotal).length : -1));
      named[lengths.indexOf(Math.max(...lengths))] = false;
      message = text();
    }
    if (message.length <= MAX_CONDITION_MESSAGE) break;
  }
  return { message: conditionMessage(message), full };
}
