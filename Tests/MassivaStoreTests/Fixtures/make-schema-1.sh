#!/usr/bin/env bash
# Makes schema-1.db: a spool database written by the first release (schema version 1, the one
# without PRAGMA user_version), holding a request of every status, rows, associations, audit
# entries and tenants (one disabled). The migration tests open a copy of it with the current
# code and check that everything is still there.
#
# Usage: make-schema-1.sh MASSIVA_BINARY [OUTPUT=schema-1.db next to this script]
# It was made with the release at main 8dffc96 (`swift build -c release`, .build/release/massiva).
# Run it again with that binary to regenerate the file; a newer binary would write a newer schema.
set -euo pipefail
massiva=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
output=${2:-$here/schema-1.db}
work=$(mktemp -d "${TMPDIR:-/tmp}/massiva-fixture.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# No retry delay at first: `serve --once` spends every attempt of an unreachable meter.
cat > quick.cf <<CF
spool_directory = $work/spool
settle_time = 0s
max_attempts = 3
minimal_backoff_time = 0s
maximal_backoff_time = 0s
CF
# Then a day's delay: a flaky meter's row stays waiting for its retry.
cat > slow.cf <<CF
spool_directory = $work/spool
settle_time = 0s
max_attempts = 5
minimal_backoff_time = 1d
maximal_backoff_time = 1d
CF

mkdir registry
cat > registry/pods.csv <<CSV
pod,eneltel,matricola,meter_type,exchange_pod,telemanaged,eligible,reachability,holder_tax_code
IT001E00000001,100000001,00331E00000001,M1,,true,true,reachable,RSSMRA80A01H501U
IT001E00000002,100000002,00331E00000002,M1,,true,true,reachable,VRDLGI70B02F205X
IT001E00000102,100000102,00331E00000102,M2,IT001E00000002,true,true,reachable,VRDLGI70B02F205X
IT001E00000003,100000003,00331E00000003,M1,,true,true,unreachable,BNCGNN60C03L219Y
IT001E00000004,100000004,00331E00000004,M1,,true,true,flaky:1000,NRIPLA50D04A944Z
IT001E00000005,100000005,00331E00000005,M1,,false,true,reachable,GLLMRC45E05H501A
IT001E00000006,100000006,00331N00000006,M1,,true,true,reachable,RSSLCA85F06F205B
IT001E00000007,100000007,00331E00000007,M1,,true,true,reachable,BRNSFO90G07L219C
IT001E00000008,100000008,00331E00000008,M1,,true,true,reachable,FRRDNL75H08A944D
IT001E00000009,100000009,00331E00000009,M1,,true,true,reachable,CSTFNC65I09H501E
CSV
cat > registry/devices.csv <<CSV
sid,nid,device_type,owner
16MOMSPC300000001,DC2600000001,MOME,acme
16MOMSPC300000002,DC2600000002,MOME,acme
16MOMSPC300000003,DC2600000003,MOME,acme
16MOMSPC300000004,DC2600000004,MOME,acme
16MOMSPC300000005,DC2600000005,MOME,acme
16SMISF8100000006,DC2700000006,Smart Info,acme
16SMISF8100000007,DC2700000007,Smart Info,voltaic
16MOMSPC300000008,DC2600000008,MOME,acme
16MOMSPC300000009,DC2600000009,MOME,acme
CSV

m() { "$massiva" --config "$1" "${@:2}"; }
m quick.cf registry import registry
m quick.cf tenant add acme --name "ACME Impianti S.r.l."
m quick.cf tenant add voltaic --name "Voltaic S.p.A."
incoming() { echo "spool/tenants/$1/incoming"; }
header='POD;Identificativo MOME/Smart INFO;Tipo Configurazione'

# done, every row OK (one Standard, one Prosumer)
printf '%s\r\nIT001E00000001;16MOMSPC300000001;Standard\r\nIT001E00000002;16MOMSPC300000002;prosumer\r\n' "$header" > "$(incoming acme)/tutto-ok.csv"
# done with errors: a bad POD, a POD not telemanaged, an unknown device, a duplicate
printf '%s\r\nIT001X1;16MOMSPC300000005;Standard\r\nIT001E00000005;16MOMSPC300000005;Standard\r\nIT001E00000001;16MOMSPC399999999;Standard\r\nIT001E00000009;16MOMSPC300000009;Standard\r\nIT001E00000009;16MOMSPC300000009;Standard\r\n' "$header" > "$(incoming acme)/con-errori.csv"
# done, a row out of attempts (unreachable meter, three attempts at once)
printf '%s\r\nIT001E00000003;16MOMSPC300000003;Standard\r\n' "$header" > "$(incoming acme)/tentativi.csv"
# rejected: no data row
printf '%s\r\n' "$header" > "$(incoming voltaic)/vuoto.csv"
# voltaic's one association (Excel's dialect: Windows-1252 would do too)
printf '%s\r\nIT001E00000007;16SMISF8100000007;Standard\r\n' "$header" > "$(incoming voltaic)/voltaic.csv"
m quick.cf serve --once 2> quick.log

# processing: a flaky meter, its row waiting a day for the retry
printf '%s\r\nIT001E00000004;16MOMSPC300000004;Standard\r\n' "$header" > "$(incoming acme)/in-attesa.csv"
m slow.cf serve --once 2> slow.log

# the portal's services: a search, an association (a GESIS meter), an association undone
m slow.cf search IT001E00000002 --tenant acme --configurator mario.rossi > /dev/null
mkdir scp
m slow.cf associate --tenant acme --pod IT001E00000006 --sid 16SMISF8100000006 --type Standard --configurator mario.rossi --out scp > /dev/null
m slow.cf associate --tenant acme --pod IT001E00000008 --sid 16MOMSPC300000008 --type Standard --configurator mario.rossi --out scp > /dev/null
m slow.cf dissociate --tenant acme --pod IT001E00000008 --configurator mario.rossi > /dev/null

# cancelled
printf '%s\r\nIT001E00000008;16MOMSPC300000008;Standard\r\n' "$header" > annullata.csv
id=$(m slow.cf submit --tenant acme annullata.csv)
m slow.cf cancel "$id" > /dev/null
# voltaic disabled: its next file is rejected
m slow.cf tenant disable voltaic > /dev/null
m slow.cf submit --tenant voltaic annullata.csv > /dev/null 2>&1 || true
# queued, never processed
printf '%s\r\nIT001E00000008;16MOMSPC300000008;Standard\r\n' "$header" > in-coda.csv
m slow.cf submit --tenant acme in-coda.csv > /dev/null

# Every command closed its connection, so the WAL is checkpointed into the file; say so.
test ! -s spool/private/massiva.db-wal || { echo "make-schema-1: WAL left behind" >&2; exit 1; }
cp spool/private/massiva.db "$output"
m slow.cf list
echo "written: $output ($(stat -c %s "$output") bytes)" >&2
