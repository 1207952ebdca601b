#!/usr/bin/env bash
# Makes a local PostgreSQL server available for the journal tests and prints the connection string.
# Installs Debian's postgresql package if it is missing, starts the default cluster, and creates a test
# role and database (idempotent).
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >/dev/null
fi
pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
runuser -u postgres -- psql -q -h /var/run/postgresql -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'orchestrator') THEN CREATE ROLE orchestrator LOGIN SUPERUSER PASSWORD 'orchestrator'; END IF; END \$\$;" >/dev/null
runuser -u postgres -- psql -q -h /var/run/postgresql -tc "SELECT 1 FROM pg_database WHERE datname = 'orchestrator_test'" | grep -q 1 \
  || runuser -u postgres -- createdb -h /var/run/postgresql -O orchestrator orchestrator_test
echo "Host=127.0.0.1;Port=5432;Database=orchestrator_test;Username=orchestrator;Password=orchestrator"
