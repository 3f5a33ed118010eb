"""The object store's settings (CAIRN_STORAGE=s3): django-storages' own names, read from
the environment, and a boto3 client that gives up quickly on a store that is down."""

from __future__ import annotations

from typing import Any

from settings.env import ConfigError, env_bool, env_float, env_int, env_str


def s3_settings() -> dict[str, Any]:
    bucket = env_str("AWS_STORAGE_BUCKET_NAME", "")
    if not bucket:
        raise ConfigError("CAIRN_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
    from botocore.config import Config

    return {
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": env_str("AWS_S3_ENDPOINT_URL", "") or None,  # None: AWS
        # None: boto3's own chain (instance profile, ~/.aws, ...).
        "AWS_ACCESS_KEY_ID": env_str("AWS_ACCESS_KEY_ID", "") or None,
        "AWS_SECRET_ACCESS_KEY": env_str("AWS_SECRET_ACCESS_KEY", "") or None,
        "AWS_SESSION_TOKEN": env_str("AWS_SESSION_TOKEN", "") or None,
        "AWS_S3_REGION_NAME": env_str("AWS_S3_REGION_NAME", "") or None,
        "AWS_LOCATION": env_str("AWS_LOCATION", ""),  # a key prefix inside the bucket
        "AWS_S3_ADDRESSING_STYLE": env_str("AWS_S3_ADDRESSING_STYLE", "") or None,
        "AWS_S3_SIGNATURE_VERSION": env_str("AWS_S3_SIGNATURE_VERSION", "") or None,
        "AWS_S3_USE_SSL": env_bool("AWS_S3_USE_SSL", True),
        "AWS_S3_VERIFY": env_bool("AWS_S3_VERIFY", True),
        # Objects stay private: nothing is ever served from the bucket.
        "AWS_DEFAULT_ACL": None,
        "AWS_S3_FILE_OVERWRITE": True,  # names are content hashes
        # A read (a worker's original, an archive) spools to a temporary file past this
        # size: never held whole in memory.
        "AWS_S3_MAX_MEMORY_SIZE": env_int("AWS_S3_MAX_MEMORY_SIZE", 4 * 2**20, minimum=1),
        # A store that is down must answer fast: the upload is refused with 503 and the
        # worker retries later, rather than both hanging on a socket.
        "AWS_S3_CLIENT_CONFIG": Config(
            connect_timeout=env_float("CAIRN_S3_CONNECT_TIMEOUT_S", 2.0, minimum=0.1),
            read_timeout=env_float("CAIRN_S3_READ_TIMEOUT_S", 10.0, minimum=0.1),
            retries={"mode": "standard",
                     "max_attempts": env_int("CAIRN_S3_MAX_ATTEMPTS", 2, minimum=1)},
            # Cairn sends its own SHA-256 with every PUT and checks it after.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    }
