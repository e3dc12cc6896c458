import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisClient } from './redis-client.js';

/**
 * A Redis Cluster: some of its nodes (`{ host, port }` or `'host:port'`; the rest are
 * discovered) and ioredis Cluster options.
 *
 * @example
 * connection: { cluster: [{ host: 'redis-1', port: 6379 }, { host: 'redis-2', port: 6379 }], options: { redisOptions: { password } } }
 */
export interface ClusterConnectionOption {
  cluster: ClusterNode[];
  options?: ClusterOptions;
}

/**
 * What `DurableModule`'s `connection` accepts: a `redis://` URL, ioredis options, an ioredis
 * instance, a Redis Cluster (`{ cluster: [...] }`), or an ioredis Cluster instance.
 */
export type RedisConnectionOption = string | RedisOptions | Redis | ClusterConnectionOption | Cluster;

/** ioredis 6 `RedisOptions` and the Node socket/TLS options it passes on. Anything else is a typo. */
const IOREDIS_OPTION_KEYS = new Set([
  // ioredis
  'Connector',
  'autoPipeliningIgnoredCommands',
  'autoResendUnfulfilledCommands',
  'autoResubscribe',
  'blockingTimeout',
  'blockingTimeoutGrace',
  'clientInfoTag',
  'commandQueue',
  'commandTimeout',
  'connectTimeout',
  'connectionName',
  'db',
  'disableClientInfo',
  'disconnectTimeout',
  'enableAutoPipelining',
  'enableOfflineQueue',
  'enableReadyCheck',
  'enableTLSForSentinelMode',
  'failoverDetector',
  'himportFieldsets',
  'lazyConnect',
  'maxLoadingRetryTime',
  'maxRetriesPerRequest',
  'monitor',
  'name',
  'natMap',
  'offlineQueue',
  'password',
  'preferredSlaves',
  'protocol',
  'readOnly',
  'reconnectOnError',
  'replyMapping',
  'retryStrategy',
  'role',
  'scripts',
  'sentinelCommandTimeout',
  'sentinelMaxConnections',
  'sentinelPassword',
  'sentinelReconnectStrategy',
  'sentinelRetryStrategy',
  'sentinelTLS',
  'sentinelUsername',
  'sentinels',
  'showFriendlyErrorStack',
  'socketTimeout',
  'stringNumbers',
  'tls',
  'updateSentinels',
  'username',
  // node:net / node:tls connect options
  'allowHalfOpen',
  'autoSelectFamily',
  'autoSelectFamilyAttemptTimeout',
  'family',
  'hints',
  'host',
  'keepAlive',
  'keepAliveInitialDelay',
  'localAddress',
  'localPort',
  'lookup',
  'noDelay',
  'path',
  'port',
  'timeout',
]);

const KEY_PREFIX = "connection.keyPrefix is not supported (BullMQ cannot use it): set DurableModule's `prefix` instead";

/** Why a `connection` value cannot be used, or undefined when it can. */
export function connectionProblem(value: unknown): string | undefined {
  if (value instanceof Cluster)
    return value.options.redisOptions?.keyPrefix || value.options.keyPrefix ? KEY_PREFIX : undefined;
  if (value instanceof Redis) return value.options.keyPrefix ? KEY_PREFIX : undefined;
  if (typeof value === 'string') {
    return /^rediss?:\/\/[^\s]*$/.test(value)
      ? undefined
      : `connection must be a redis:// or rediss:// URL (got ${JSON.stringify(redactUrl(value))})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `connection must be a redis:// URL, ioredis options or an ioredis instance (got ${JSON.stringify(value)})`;
  }
  const keys = Object.keys(value);
  if (keys.includes('cluster')) return clusterProblem(value as Record<string, unknown>);
  if (keys.includes('keyPrefix')) return KEY_PREFIX;
  const unknown = keys.filter((k) => !IOREDIS_OPTION_KEYS.has(k));
  if (unknown.length)
    return `connection has option(s) that are not ioredis options: ${unknown.join(', ')} (check the spelling)`;
  return undefined;
}

function clusterProblem(value: Record<string, unknown>): string | undefined {
  const extra = Object.keys(value).filter((k) => k !== 'cluster' && k !== 'options');
  if (extra.length)
    return `connection { cluster } takes only 'cluster' and 'options' (got ${extra.join(', ')}): put ioredis Cluster options under 'options'`;
  const nodes = value.cluster;
  const nodeOk = (n: unknown) =>
    typeof n === 'number' ||
    (typeof n === 'string' && n.length > 0) ||
    (typeof n === 'object' && n !== null && !Array.isArray(n));
  if (!Array.isArray(nodes) || nodes.length === 0 || !nodes.every(nodeOk)) {
    return `connection.cluster must be a non-empty list of nodes, { host, port } or 'host:port' (got ${JSON.stringify(nodes)})`;
  }
  const options = value.options as ClusterOptions | undefined;
  if (options !== undefined && (typeof options !== 'object' || options === null))
    return `connection.options must be ioredis Cluster options (got ${JSON.stringify(options)})`;
  if (options?.keyPrefix || options?.redisOptions?.keyPrefix) return KEY_PREFIX;
  return undefined;
}

function isClusterOption(option: RedisConnectionOption): option is ClusterConnectionOption {
  return (
    typeof option === 'object' && !(option instanceof Redis) && !(option instanceof Cluster) && 'cluster' in option
  );
}

function nodeName(node: ClusterNode): string {
  if (typeof node === 'number') return `127.0.0.1:${node}`;
  if (typeof node === 'string') return node;
  return `${node.host ?? '127.0.0.1'}:${node.port ?? 6379}`;
}

/** `host:port` (or the socket path, or a Cluster's nodes) of a connection option, never its password. */
export function endpointOf(option: RedisConnectionOption): string {
  if (option instanceof Cluster) {
    const masters = option.nodes('master').map((n) => `${n.options.host}:${n.options.port}`);
    return masters.length ? `cluster ${masters.join(',')}` : 'a cluster';
  }
  if (isClusterOption(option)) return `cluster ${option.cluster.map(nodeName).join(',')}`;
  if (option instanceof Redis) return endpointOf(option.options);
  if (typeof option === 'string') {
    try {
      const url = new URL(option);
      return `${url.hostname || '127.0.0.1'}:${url.port || 6379}`;
    } catch {
      return 'an unparseable URL';
    }
  }
  if (option.sentinels?.length)
    return `sentinel group '${option.name ?? 'mymaster'}' via ${option.sentinels.map((s) => `${s.host ?? '127.0.0.1'}:${s.port ?? 26379}`).join(', ')}`;
  if ('path' in option && option.path) return String(option.path);
  return `${option.host ?? '127.0.0.1'}:${option.port ?? 6379}`;
}

function redactUrl(value: string): string {
  return value.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * A connection of the library's own, from the user's option. An ioredis instance given by the
 * app is duplicated (the app keeps and closes its own); BullMQ requires `maxRetriesPerRequest: null`.
 */
export function openConnection(option: RedisConnectionOption): RedisClient {
  const own = { maxRetriesPerRequest: null };
  let redis: RedisClient;
  if (option instanceof Cluster)
    redis = option.duplicate(undefined, { redisOptions: { ...option.options.redisOptions, ...own } });
  else if (isClusterOption(option))
    redis = new Cluster(option.cluster, {
      ...option.options,
      redisOptions: { ...option.options?.redisOptions, ...own },
    });
  else
    redis =
      option instanceof Redis
        ? option.duplicate(own)
        : typeof option === 'string'
          ? new Redis(option, own)
          : new Redis({ ...option, ...own });
  redis.on('error', () => undefined); // reported through RedisLink; ioredis reconnects on its own
  if (redis.status === 'wait') redis.connect().catch(() => undefined); // a lazyConnect instance's duplicate
  return redis;
}
