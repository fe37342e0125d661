/**
 * `perfpilot doctor`'s checks of where maxmemory is persisted (spec.metrics.redis.persist, or the
 * older configMapName): the ConfigMap and its key exist, and what the operator will write there;
 * or, for CONFIG REWRITE, that each node was started from a config file and its ACL user may run
 * it. Read-only: GETs, `INFO server` and ACL DRYRUN, never CONFIG REWRITE itself.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { rewriteMaxMemoryLine } from '../actuators/redis-conf.ts';
import { readIfExists } from '../actuators/server-side-apply.ts';
import { type MaxMemoryPersistence, RedisConfigMapFormat } from '../api/v1alpha1/index.ts';
import type { RedisConnections, RedisEndpointSet } from '../redis/connections.ts';
import type { DoctorLine } from './doctor-report.ts';

const CHECK = 'Redis persistence';

/** checkPersistenceTarget says where a maxmemory change will be persisted, and whether that place exists. */
export async function checkPersistenceTarget(
  core: Pick<CoreV1Api, 'readNamespacedConfigMap'>,
  namespace: string,
  persistence: MaxMemoryPersistence,
): Promise<DoctorLine> {
  if (persistence.kind === 'none') {
    // A choice, not a fault (a cache rebuilt from nothing at every start may want no more).
    return {
      verdict: 'ok',
      check: CHECK,
      detail:
        'none: a maxmemory change lasts until a node restarts; to keep it, set spec.metrics.redis.persist.configMap (format RedisConf for a whole redis.conf) or persist.configRewrite',
    };
  }
  if (persistence.kind === 'configRewrite') {
    return {
      verdict: 'ok',
      check: CHECK,
      detail: 'CONFIG REWRITE on every node after each change (each node is checked below)',
    };
  }
  const { name, key, format } = persistence;
  let configMap: Awaited<ReturnType<typeof core.readNamespacedConfigMap>> | undefined;
  try {
    configMap = await readIfExists(() => core.readNamespacedConfigMap({ namespace, name }));
  } catch (err) {
    return {
      verdict: 'fail',
      check: CHECK,
      detail: `cannot read ConfigMap ${namespace}/${name}: ${err instanceof Error ? err.message : String(err)}`,
      fix: 'check the kubeconfig and that you may get ConfigMaps in the namespace',
    };
  }
  if (!configMap) {
    return {
      verdict: 'fail',
      check: CHECK,
      detail: `ConfigMap ${namespace}/${name} not found: a maxmemory change is not persisted, and a restarted node loses it`,
      fix: 'name the ConfigMap your Redis pods mount in spec.metrics.redis.persist.configMap.name',
    };
  }
  const live = configMap.data?.[key];
  if (format === RedisConfigMapFormat.Value) {
    return {
      verdict: 'ok',
      check: CHECK,
      detail: `ConfigMap ${namespace}/${name} key "${key}" ${live === undefined ? 'is created at the first change' : `holds ${JSON.stringify(live.trim())}`}, as the single line maxmemory <n>mb: the node's redis.conf must include it`,
    };
  }
  if (live === undefined) {
    return {
      verdict: 'fail',
      check: CHECK,
      detail: `ConfigMap ${namespace}/${name} has no key "${key}" to rewrite: format RedisConf needs the whole redis.conf the pods read`,
      fix: `name the key that holds redis.conf in spec.metrics.redis.persist.configMap.key (keys: ${Object.keys(configMap.data ?? {}).join(', ') || 'none'})`,
    };
  }
  const rewrite = rewriteMaxMemoryLine(live, 1);
  const lines = live.split('\n').filter((l) => /^[ \t]*maxmemory([ \t]|$)/i.test(l.replace(/\r$/, '')));
  return {
    verdict: 'ok',
    check: CHECK,
    detail:
      rewrite.rewritten === 0
        ? `ConfigMap ${namespace}/${name} key "${key}" has no maxmemory line: the first change adds one at its end, every other line kept`
        : `ConfigMap ${namespace}/${name} key "${key}": ${lines.map((l) => `"${l.trim()}"`).join(', ')} rewritten at each change, every other line kept${rewrite.appended ? '; an include follows it, so a line is also added at the end' : ''}`,
  };
}

/**
 * checkConfigRewrite checks one node for persist.configRewrite: it was started from a config file
 * (`INFO server` names it) and the ACL user may run CONFIG REWRITE (ACL DRYRUN).
 */
export async function checkConfigRewrite(
  connections: RedisConnections,
  set: RedisEndpointSet,
  address: string,
): Promise<DoctorLine> {
  const check = `Redis ${address} CONFIG REWRITE`;
  const text = (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    return message.startsWith(`${address}: `) ? message.slice(address.length + 2) : message;
  };
  let file: string;
  try {
    const info = String(await connections.command(set, address, ['INFO', 'server']));
    file = /^config_file:(.*?)\r?$/m.exec(info)?.[1]?.trim() ?? '';
  } catch (err) {
    return {
      verdict: 'warn',
      check,
      detail: `not checked: ${text(err)}`,
      fix: 'watch the profile’s first change in Auto: its Event says whether CONFIG REWRITE succeeded',
    };
  }
  if (!file) {
    return {
      verdict: 'fail',
      check,
      detail:
        'the node was started without a config file: CONFIG REWRITE fails, and a change lasts until it restarts',
      fix: 'start the node from a writable config file, or persist in the ConfigMap it mounts (spec.metrics.redis.persist.configMap)',
    };
  }
  // The profile's ACL user is known; WHOAMI asks only for the default one (a least-ACL user may not run it).
  let user = set.username ?? 'default';
  let dryRun: string;
  try {
    if (set.username === undefined) user = String(await connections.command(set, address, ['ACL', 'WHOAMI']));
    dryRun = String(await connections.command(set, address, ['ACL', 'DRYRUN', user, 'CONFIG', 'REWRITE']));
  } catch (err) {
    return {
      verdict: 'warn',
      check,
      detail: `writes ${file}; permission not checked: ACL DRYRUN is not available (${text(err)}), and doctor never runs CONFIG REWRITE`,
      fix: `ask an admin to run ACL DRYRUN ${user} CONFIG REWRITE, or watch the profile’s first change in Auto`,
    };
  }
  if (dryRun !== 'OK') {
    return {
      verdict: 'fail',
      check,
      detail: `CONFIG REWRITE denied to user ${user}: ${dryRun}`,
      fix: `ACL SETUSER ${user} +config|rewrite, on every node`,
    };
  }
  return { verdict: 'ok', check, detail: `writes ${file}; permitted to user ${user} (ACL DRYRUN)` };
}
