"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

django.core.cache.backends.redis builds a new redis.Redis object for every cache call,
and each one copies redis-py's table of about 170 response callbacks. A page served
from the page cache makes one cache call, so that copy was a tenth of its CPU time. A
redis.Redis object is safe to share between threads: it takes a connection from its
pool for each command.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
