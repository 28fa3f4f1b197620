<?php
/**
 * inception-object-cache: WordPress's persistent object cache in Redis (bonus B01), through
 * Debian's php-redis extension. No plugin, no download: this drop-in is ours, copied to
 * wp-content/object-cache.php by the wordpress entrypoint only when WP_REDIS_HOST is set (the
 * bonus profile), and removed again when it is not.
 *
 * Every value also lives in a per-request array, as in WordPress's default cache. When Redis
 * cannot be reached (stopped, restarting) the cache silently degrades to that array alone, which
 * is exactly WordPress's behaviour without a drop-in: the site keeps working, only slower.
 * Redis keeps nothing on disk, so after a restart it starts empty and never serves stale values.
 */

defined('ABSPATH') || exit;

const INCEPTION_REDIS_TIMEOUT_S = 1.0;
const INCEPTION_REDIS_PREFIX = 'wp:';

class WP_Object_Cache
{
    /** @var array<string, array<string, mixed>> group => key => value, for this request */
    private array $cache = [];
    /** @var array<string, bool> */
    private array $global_groups = [];
    /** @var array<string, bool> */
    private array $non_persistent_groups = [];
    private ?Redis $redis = null;
    private string $blog_prefix = '';
    public int $cache_hits = 0;
    public int $cache_misses = 0;

    public function __construct()
    {
        if (is_multisite()) {
            $this->blog_prefix = get_current_blog_id() . ':';
        }
        $this->connect();
    }

    private function connect(): void
    {
        if (!class_exists('Redis') || !defined('WP_REDIS_HOST') || WP_REDIS_HOST === '') {
            return;
        }
        try {
            $redis = new Redis();
            $port = defined('WP_REDIS_PORT') ? (int) WP_REDIS_PORT : 6379;
            // No PHP warning when Redis is away: that is an expected state (the status page shows
            // it), and a warning on every page view would flood the log.
            if (!@$redis->connect(WP_REDIS_HOST, $port, INCEPTION_REDIS_TIMEOUT_S)) {
                return;
            }
            $redis->setOption(Redis::OPT_READ_TIMEOUT, (string) INCEPTION_REDIS_TIMEOUT_S);
            $redis->setOption(Redis::OPT_SERIALIZER, (string) Redis::SERIALIZER_PHP);
            $this->redis = $redis;
        } catch (RedisException $e) {
            $this->redis = null;
        }
    }

    /** Whether this request talks to Redis (false: per-request cache only). */
    public function redis_connected(): bool
    {
        return $this->redis !== null;
    }

    /** Runs a Redis call; on any Redis error, stops using Redis for the rest of the request. */
    private function call(callable $fn, mixed $fallback): mixed
    {
        if ($this->redis === null) {
            return $fallback;
        }
        try {
            return $fn($this->redis);
        } catch (RedisException $e) {
            $this->redis = null;
            return $fallback;
        }
    }

    private function group(string $group): string
    {
        return $group === '' ? 'default' : $group;
    }

    private function persistent(string $group): bool
    {
        return !isset($this->non_persistent_groups[$group]);
    }

    private function redis_key(string|int $key, string $group): string
    {
        $blog = isset($this->global_groups[$group]) ? '' : $this->blog_prefix;
        return INCEPTION_REDIS_PREFIX . $blog . $group . ':' . $key;
    }

    /** Objects are copied, so that callers cannot change what the cache holds by reference. */
    private function copy(mixed $value): mixed
    {
        return is_object($value) ? clone $value : $value;
    }

    private function known(string|int $key, string $group): bool
    {
        return isset($this->cache[$group]) && array_key_exists($key, $this->cache[$group]);
    }

    public function get(string|int $key, string $group = 'default', bool $force = false, ?bool &$found = null): mixed
    {
        $group = $this->group($group);
        if (!$force && $this->known($key, $group)) {
            $found = true;
            $this->cache_hits++;
            return $this->copy($this->cache[$group][$key]);
        }
        if ($this->persistent($group)) {
            $value = $this->call(fn (Redis $r) => $r->get($this->redis_key($key, $group)), false);
            // php-redis returns false for a missing key; a stored false is serialized, so it
            // comes back as false too and is treated as a miss (as other Redis drop-ins do).
            if ($value !== false) {
                $this->cache[$group][$key] = $value;
                $found = true;
                $this->cache_hits++;
                return $this->copy($value);
            }
        }
        $found = false;
        $this->cache_misses++;
        return false;
    }

    /** @param array<int, string|int> $keys */
    public function get_multiple(array $keys, string $group = 'default', bool $force = false): array
    {
        $values = [];
        foreach ($keys as $key) {
            $values[$key] = $this->get($key, $group, $force);
        }
        return $values;
    }

    public function set(string|int $key, mixed $data, string $group = 'default', int $expire = 0): bool
    {
        $group = $this->group($group);
        $data = $this->copy($data);
        $this->cache[$group][$key] = $data;
        if ($this->persistent($group)) {
            $redisKey = $this->redis_key($key, $group);
            $this->call(fn (Redis $r) => $expire > 0 ? $r->setex($redisKey, $expire, $data) : $r->set($redisKey, $data), false);
        }
        return true;
    }

    /** @param array<string|int, mixed> $data */
    public function set_multiple(array $data, string $group = 'default', int $expire = 0): array
    {
        $results = [];
        foreach ($data as $key => $value) {
            $results[$key] = $this->set($key, $value, $group, $expire);
        }
        return $results;
    }

    public function add(string|int $key, mixed $data, string $group = 'default', int $expire = 0): bool
    {
        if (wp_suspend_cache_addition()) {
            return false;
        }
        $group = $this->group($group);
        $this->get($key, $group, false, $found);
        return $found ? false : $this->set($key, $data, $group, $expire);
    }

    /** @param array<string|int, mixed> $data */
    public function add_multiple(array $data, string $group = 'default', int $expire = 0): array
    {
        $results = [];
        foreach ($data as $key => $value) {
            $results[$key] = $this->add($key, $value, $group, $expire);
        }
        return $results;
    }

    public function replace(string|int $key, mixed $data, string $group = 'default', int $expire = 0): bool
    {
        $group = $this->group($group);
        $this->get($key, $group, false, $found);
        return $found ? $this->set($key, $data, $group, $expire) : false;
    }

    public function delete(string|int $key, string $group = 'default'): bool
    {
        $group = $this->group($group);
        $existed = $this->known($key, $group);
        unset($this->cache[$group][$key]);
        if ($this->persistent($group)) {
            $existed = $this->call(fn (Redis $r) => $r->del($this->redis_key($key, $group)) > 0, false) || $existed;
        }
        return $existed;
    }

    /** @param array<int, string|int> $keys */
    public function delete_multiple(array $keys, string $group = 'default'): array
    {
        $results = [];
        foreach ($keys as $key) {
            $results[$key] = $this->delete($key, $group);
        }
        return $results;
    }

    public function incr(string|int $key, int $offset = 1, string $group = 'default'): int|false
    {
        $group = $this->group($group);
        $value = $this->get($key, $group, false, $found);
        if (!$found) {
            return false;
        }
        $value = max(0, (is_numeric($value) ? (int) $value : 0) + $offset);
        $this->set($key, $value, $group);
        return $value;
    }

    public function decr(string|int $key, int $offset = 1, string $group = 'default'): int|false
    {
        return $this->incr($key, -$offset, $group);
    }

    /** Empties this request's cache and Redis, which serves this site only. */
    public function flush(): bool
    {
        $this->cache = [];
        $this->call(fn (Redis $r) => $r->flushDB(), false);
        return true;
    }

    public function flush_runtime(): bool
    {
        $this->cache = [];
        return true;
    }

    /** @param string|array<int, string> $groups */
    public function add_global_groups(string|array $groups): void
    {
        foreach ((array) $groups as $group) {
            $this->global_groups[$group] = true;
        }
    }

    /** @param string|array<int, string> $groups */
    public function add_non_persistent_groups(string|array $groups): void
    {
        foreach ((array) $groups as $group) {
            $this->non_persistent_groups[$group] = true;
        }
    }

    public function switch_to_blog(int $blog_id): void
    {
        $this->blog_prefix = is_multisite() ? $blog_id . ':' : '';
    }

    public function close(): bool
    {
        $this->call(fn (Redis $r) => $r->close(), false);
        $this->redis = null;
        return true;
    }

    public function stats(): void
    {
        printf(
            '<p><strong>Cache hits:</strong> %d<br><strong>Cache misses:</strong> %d<br><strong>Redis:</strong> %s</p>',
            $this->cache_hits,
            $this->cache_misses,
            $this->redis_connected() ? 'connected' : 'not reachable (per-request cache only)'
        );
    }
}

function wp_cache_init(): void
{
    $GLOBALS['wp_object_cache'] = new WP_Object_Cache();
}

function wp_cache_add($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->add($key, $data, (string) $group, (int) $expire);
}

function wp_cache_add_multiple(array $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->add_multiple($data, (string) $group, (int) $expire);
}

function wp_cache_replace($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->replace($key, $data, (string) $group, (int) $expire);
}

function wp_cache_set($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->set($key, $data, (string) $group, (int) $expire);
}

function wp_cache_set_multiple(array $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->set_multiple($data, (string) $group, (int) $expire);
}

function wp_cache_get($key, $group = '', $force = false, &$found = null)
{
    return $GLOBALS['wp_object_cache']->get($key, (string) $group, (bool) $force, $found);
}

function wp_cache_get_multiple($keys, $group = '', $force = false)
{
    return $GLOBALS['wp_object_cache']->get_multiple((array) $keys, (string) $group, (bool) $force);
}

function wp_cache_delete($key, $group = '')
{
    return $GLOBALS['wp_object_cache']->delete($key, (string) $group);
}

function wp_cache_delete_multiple(array $keys, $group = '')
{
    return $GLOBALS['wp_object_cache']->delete_multiple($keys, (string) $group);
}

function wp_cache_incr($key, $offset = 1, $group = '')
{
    return $GLOBALS['wp_object_cache']->incr($key, (int) $offset, (string) $group);
}

function wp_cache_decr($key, $offset = 1, $group = '')
{
    return $GLOBALS['wp_object_cache']->decr($key, (int) $offset, (string) $group);
}

function wp_cache_flush()
{
    return $GLOBALS['wp_object_cache']->flush();
}

function wp_cache_flush_runtime()
{
    return $GLOBALS['wp_object_cache']->flush_runtime();
}

function wp_cache_close()
{
    return $GLOBALS['wp_object_cache']->close();
}

function wp_cache_add_global_groups($groups)
{
    $GLOBALS['wp_object_cache']->add_global_groups($groups);
}

function wp_cache_add_non_persistent_groups($groups)
{
    $GLOBALS['wp_object_cache']->add_non_persistent_groups($groups);
}

function wp_cache_switch_to_blog($blog_id)
{
    $GLOBALS['wp_object_cache']->switch_to_blog((int) $blog_id);
}

/** Deprecated in WordPress 3.5, kept for old plugins: resets this request's cache only. */
function wp_cache_reset()
{
    return $GLOBALS['wp_object_cache']->flush_runtime();
}

function wp_cache_supports($feature)
{
    return in_array($feature, ['add_multiple', 'set_multiple', 'get_multiple', 'delete_multiple', 'flush_runtime'], true);
}
