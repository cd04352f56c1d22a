/**
 * Versions cslr pins for the software it runs. The e2e test images are built from this object
 * (scripts/ci/build-test-images.sh reads it, and its content is part of the images' input
 * hashes), so the versions tested are the versions listed here.
 *
 * - ray: `ray[default]` from PyPI (image cslr-test/ray:<ray>); token authentication needs >= 2.52.
 * - mlflow: `mlflow` from PyPI (cslr-test/mlflow:<mlflow>; the Ray image has `mlflow-skinny` at
 *   the same version). 3.18.0 is on PyPI but needs mlflow-skinny==3.18.0 and
 *   mlflow-tracing==3.18.0, which the index does not serve: 3.17.2 is the newest installable.
 * - marimo: `marimo[sql]` from PyPI (cslr-test/marimo:<marimo>).
 * - postgres: the major version of Debian bookworm's PostgreSQL (cslr-test/postgres:<postgres>).
 * - redis: the official image tag cslr defaults to; the test image is Debian's redis-server
 *   (cslr-test/redis:7), not built from this number.
 * - psycopg2, psycopg: the PostgreSQL drivers installed next to MLflow (`psycopg2-binary`,
 *   `psycopg[binary]`), as in ghcr.io/mlflow/mlflow's -full image (mlflow[db]). SQLAlchemy
 *   >= 2.1 maps a plain `postgresql://` store URI to psycopg (3), not psycopg2.
 */
export const pinnedVersions = {
  ray: "2.60.0",
  mlflow: "3.17.2",
  marimo: "0.25.2",
  postgres: "15",
  redis: "7.4.1",
  psycopg2: "2.9.13",
  psycopg: "3.3.9",
} as const;

export type PinnedVersions = typeof pinnedVersions;
