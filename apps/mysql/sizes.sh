# Sourced by prepare.sh and client.sh: the size of the sbtest database, which both must agree
# on (sysbench's OLTP scripts pick row ids in 1..table_size). Sets $tables and $table_size.
tables=${LOCKSTEP_MYSQL_TABLES:-4}
table_size=${LOCKSTEP_MYSQL_TABLE_SIZE:-10000}
if ! [[ $tables =~ ^[1-9][0-9]{0,2}$ ]]; then
  echo "LOCKSTEP_MYSQL_TABLES must be 1..999, got '$tables'" >&2
  exit 2
fi
if ! [[ $table_size =~ ^[1-9][0-9]{0,7}$ ]]; then
  echo "LOCKSTEP_MYSQL_TABLE_SIZE must be 1..99999999, got '$table_size'" >&2
  exit 2
fi
