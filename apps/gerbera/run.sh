#!/bin/sh
# Starts Gerbera on a fresh database: app.cfg's server is `run.sh DATA_DIR GERBERA ARGS...`.
# The library is imported at every start (the --add arguments), so the database holds nothing
# that must survive a restart. Keeping it would break the ids: after a SIGKILL, Gerbera finds the
# directories but not the files of its last, uncommitted transaction, and re-imports the files
# under new ids — that replica would then serve other objects at the URLs the clients request.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: run.sh DATA_DIR GERBERA [ARGS...]" >&2
  exit 2
fi
cd "$1"
shift
rm -f gerbera.db gerbera.db-journal gerbera.db-wal gerbera.db-shm gerbera.db.backup
exec "$@"
