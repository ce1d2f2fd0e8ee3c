"""Production's static files storage (whitenoise, hashed and compressed), gzip only.

For bench.settings: brotli at its best setting costs half a minute of
CPU per benchmark run on this machine, and the benchmark's requests are served
the gzip file instead, which costs whitenoise the same.
"""

from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage


class GzipManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def create_compressor(self, **kwargs):
        return Compressor(use_brotli=False, **kwargs)
