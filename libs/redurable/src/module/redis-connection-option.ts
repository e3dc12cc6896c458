import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** What `DurableModule`'s `connection` accepts: a `redis://` URL, ioredis options, or an ioredis instance. */
export type RedisConnectionOption = string | RedisOptions | Redis;

/** ioredis 6 `RedisOptions` and the Node socket/TLS options it passes on. Anything else is a typo. */
const IOREDIS_OPTION_KEYS = new Set([
  // ioredis
  'Connector', 'autoPipeliningIgnoredCommands', 'autoResendUnfulfilledCommands', 'autoResubscribe', 'blockingTimeout',
  'blockingTimeoutGrace', 'clientInfoTag', 'commandQueue', 'commandTimeout', 'connectTimeout', 'connectionName', 'db',
  'disableClientInfo', 'disconnectTimeout', 'enableAutoPipelining', 'enableOfflineQueue', 'enableReadyCheck',
  'enableTLSForSentinelMode', 'failoverDetector', 'himportFieldsets', 'lazyConnect', 'maxLoadingRetryTime',
  'maxRetriesPerRequest', 'monitor', 'name', 'natMap', 'offlineQueue', 'password', 'preferredSlaves', 'protocol',
  'readOnly', 'reconnectOnError', 'replyMapping', 'retryStrategy', 'role', 'scripts', 'sentinelCommandTimeout',
  'sentinelMaxConnections', 'sentinelPassword', 'sentinelReconnectStrategy', 'sentinelRetryStrategy', 'sentinelTLS',
  'sentinelUsername', 'sentinels', 'showFriendlyErrorStack', 'socketTimeout', 'stringNumbers', 'tls', 'updateSentinels',
  'username',
  // node:net / node:tls connect options
  'allowHalfOpen', 'autoSelectFamily', 'autoSelectFamilyAttemptTimeout', 'family', 'hints', 'host', 'keepAlive',
  'keepAliveInitialDelay', 'localAddress', 'localPort', 'lookup', 'noDelay', 'path', 'port', 'timeout',
]);

const KEY_PREFIX = "connection.keyPrefix is not supported (BullMQ cannot use it): set DurableModule's `prefix` instead";

/** Why a `connection` value cannot be used, or undefined when it can. */
export function connectionProblem(value: unknown): string | undefined {
  if (value instanceof Cluster) return 'connection: Redis Cluster is not supported yet; connect to a single Redis (or a primary with replicas through sentinels)';
  if (value instanceof Redis) return value.options.keyPrefix ? KEY_PREFIX : undefined;
  if (typeof value === 'string') {
    return /^rediss?:\/\/[^\s]*$/.test(value) ? undefined : `connection must be a redis:// or rediss:// URL (got ${JSON.stringify(redactUrl(value))})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `connection must be a redis:// URL, ioredis options or an ioredis instance (got ${JSON.stringify(value)})`;
  }
  const keys = Object.keys(value);
  if (keys.includes('cluster') || keys.includes('nodes')) {
    return 'connection: Redis Cluster is not supported yet; connect to a single Redis (or a primary with replicas through sentinels)';
  }
  if (keys.includes('keyPrefix')) return KEY_PREFIX;
  const unknown = keys.filter((k) => !IOREDIS_OPTION_KEYS.has(k));
  if (unknown.length) return `connection has option(s) that are not ioredis options: ${unknown.join(', ')} (check the spelling)`;
  return undefined;
}

/** `host:port` (or the socket path) of a connection option, never its password. */
export function endpointOf(option: RedisConnectionOption): string {
  if (option instanceof Redis) return endpointOf(option.options);
  if (typeof option === 'string') {
    try {
      const url = new URL(option);
      return `${url.hostname || '127.0.0.1'}:${url.port || 6379}`;
    } catch {
      return 'an unparseable URL';
    }
  }
  if (option.sentinels?.length) return `sentinel group '${option.name ?? 'mymaster'}' via ${option.sentinels.map((s) => `${s.host ?? '127.0.0.1'}:${s.port ?? 26379}`).join(', ')}`;
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
export function openConnection(option: RedisConnectionOption): Redis {
  const own = { maxRetriesPerRequest: null };
  const redis = option instanceof Redis ? option.duplicate(own) : typeof option === 'string' ? new Redis(option, own) : new Redis({ ...option, ...own });
  redis.on('error', () => undefined); // reported through RedisLink; ioredis reconnects on its own
  if (redis.status === 'wait') redis.connect().catch(() => undefined); // a lazyConnect instance's duplicate
  return redis;
}
