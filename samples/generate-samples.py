#!/usr/bin/env python3
"""Generates massiva's sample data: the embedded registry, the tenants, the template and the
sample requests with their expected outcomes.

    python3 samples/generate-samples.py            # rewrites the files listed below

Deterministic: the only randomness is random.Random(SEED), so running it twice gives the same
bytes. Everything is fake: PODs, meters, devices and tax codes were made up here.

Files written (relative to samples/):
    registry/pods.csv registry/devices.csv     massiva registry import samples/registry
    tenants.csv                                the two sample System Integrators
    template.csv                               the manual's template header, nothing else
    requests/acme-clean.csv                    ~20 valid rows for acme
    requests/acme-every-error.csv              one row per row outcome, in check order
    requests/voltaic-excel.csv                 Excel's Italian dialect (Windows-1252)
    requests/README.md                         what each request shows, expected outcomes

The rest of samples/ is written by hand: massiva.cf, commands/, prometheus/, grafana/, systemd/.
The end-to-end tests read requests/README.md's tables as the expected outcome of every row
(Tests/MassivaEndToEndTests/Support.swift). A registry of any size for benchmarks is
scripts/generate-large-registry's job.
"""

import os
import random

SEED = 20240305
HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(SEED)

# ---------------------------------------------------------------------------------------------
# Identifiers


def pod(n, distributor=1, suffix=""):
    """IT + 3-digit distributor + E + 8 digits [+ one letter or digit]."""
    return "IT%03dE%08d%s" % (distributor, n, suffix)


_used_eneltel = set()


def eneltel():
    while True:
        code = "%09d" % rng.randrange(100_000_000, 1_000_000_000)
        if code not in _used_eneltel:
            _used_eneltel.add(code)
            return code


_used_matricola = set()


def matricola(gesis):
    """GESIS meters have `N` as the 6th character; the others never do."""
    while True:
        if gesis:
            m = "%05dN%08d" % (rng.randrange(0, 100_000), rng.randrange(0, 100_000_000))
        else:
            prefix = rng.choice(["ABC123", "00331E", "LGZ2G0", "EMH4M7", "00123T"])
            m = prefix + "%08d" % rng.randrange(0, 100_000_000)
        assert (m[5] == "N") == gesis
        if m not in _used_matricola:
            _used_matricola.add(m)
            return m


# Codice fiscale: 3 surname letters, 3 name letters, year, month letter, day (+40 for women),
# municipality code, check letter (the real algorithm, so that validators accept the shape).
_CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                   [1, 0, 5, 7, 9, 13, 15, 17, 19, 21] +
                   [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16,
                    10, 22, 25, 24, 23]))
_CF_EVEN = {**{str(d): d for d in range(10)}, **{chr(65 + i): i for i in range(26)}}
_MONTHS = "ABCDEHLMPRST"
_MUNICIPALITIES = ["H501", "F205", "L219", "F839", "A944", "D612", "G273", "C351", "L736",
                   "B354"]
_CONSONANTS = "BCDFGLMNPRSTVZ"
_VOWELS = "AEIOU"


def cf_check(first15):
    total = sum((_CF_ODD if i % 2 == 0 else _CF_EVEN)[c] for i, c in enumerate(first15))
    return chr(65 + total % 26)


assert cf_check("RSSMRA80A01H501") == "U"


def tax_code():
    def part():
        return rng.choice(_CONSONANTS) + rng.choice(_CONSONANTS) + rng.choice(_VOWELS + _CONSONANTS)
    day = rng.randrange(1, 29) + (40 if rng.random() < 0.5 else 0)
    body = "%s%s%02d%s%02d%s" % (part(), part(), rng.randrange(40, 100), rng.choice(_MONTHS),
                                 day, rng.choice(_MUNICIPALITIES))
    return body + cf_check(body)


# ---------------------------------------------------------------------------------------------
# The registry: pods.csv

PODS = []          # dicts in file order
POD_INFO = {}      # pod -> dict


def add_pod(code, meter_type="M1", exchange="", telemanaged=True, eligible=True,
            reachability="reachable", gesis=False, holder=None):
    assert code not in POD_INFO, code
    row = dict(pod=code, eneltel=eneltel(), matricola=matricola(gesis), meter_type=meter_type,
               exchange_pod=exchange, telemanaged="true" if telemanaged else "false",
               eligible="true" if eligible else "false", reachability=reachability,
               holder_tax_code=holder or tax_code(), productions=[])
    PODS.append(row)
    POD_INFO[code] = row
    if exchange:
        POD_INFO[exchange]["productions"].append(code)
    return code


# Plain, reachable exchange PODs (most of the registry). Every 7th meter is a GESIS one; a few
# PODs carry the optional 15th character; a few belong to other distributors.
PLAIN = []
for n in range(1, 241):
    suffix = "A" if n % 40 == 0 else ("7" if n % 45 == 0 else "")
    PLAIN.append(add_pod(pod(n, suffix=suffix), gesis=(n % 7 == 0)))
for n in range(1, 21):
    PLAIN.append(add_pod(pod(n, distributor=12 if n % 2 else 2), gesis=(n % 5 == 0)))

# Prosumers: an exchange POD (M1) and 1, 2 or 3 production PODs (M2). The production PODs are
# listed in an order where the first listed is NOT the alphabetical first, which is the one a
# bulk Prosumer association must take.
PROSUMERS = {}     # exchange pod -> production pods in file order


def add_prosumer(n, production_codes, gesis=False):
    exchange = add_pod(pod(n), gesis=gesis)
    holder = POD_INFO[exchange]["holder_tax_code"]
    for code in production_codes:
        add_pod(code, meter_type="M2", exchange=exchange, holder=holder)
    PROSUMERS[exchange] = production_codes
    return exchange


for i, n in enumerate(range(1001, 1005)):        # one production POD
    add_prosumer(n, [pod(50000 + n * 10 + 1)], gesis=(i == 3))
for i, n in enumerate(range(1011, 1015)):        # two: listed ...2 then ...1
    add_prosumer(n, [pod(50000 + n * 10 + 2), pod(50000 + n * 10 + 1)], gesis=(i == 1))
for i, n in enumerate(range(1021, 1024)):        # three: listed ...3, ...1, ...2
    add_prosumer(n, [pod(50000 + n * 10 + d) for d in (3, 1, 2)], gesis=(i == 2))
# Three, with the optional 15th character: "...241A" < "...241B" < "...243".
add_prosumer(1024, [pod(51240 + 3), pod(51240 + 1, suffix="B"), pod(51240 + 1, suffix="A")])
# Three, one of them at another distributor (sorts after IT001...): first is IT001E00051252.
add_prosumer(1025, [pod(51250 + 3, distributor=12), pod(51250 + 3), pod(51250 + 2)])


def first_production(exchange):
    return sorted(PROSUMERS[exchange])[0]


for exchange, productions in PROSUMERS.items():
    if len(productions) > 1:
        assert productions[0] != first_production(exchange), exchange

# Not telemanaged, not eligible (meter reachable, so the row fails for that one reason).
NOT_TELEMANAGED = [add_pod(pod(n), telemanaged=False) for n in range(901, 904)]
NOT_ELIGIBLE = [add_pod(pod(n), eligible=False) for n in range(911, 914)]
# Reachability: never, or the first N probes fail.
UNREACHABLE = [add_pod(pod(n), reachability="unreachable") for n in range(921, 924)]
FLAKY1 = [add_pod(pod(n), reachability="flaky:1") for n in range(931, 934)]
FLAKY2 = [add_pod(pod(n), reachability="flaky:2") for n in range(941, 944)]
FLAKY10 = [add_pod(pod(n), reachability="flaky:10") for n in range(951, 954)]
# A prosumer whose meter is unreachable at first (a retried Prosumer row).
FLAKY_PROSUMER = add_prosumer(1031, [pod(60312), pod(60311)])
POD_INFO[FLAKY_PROSUMER]["reachability"] = "flaky:2"

# ---------------------------------------------------------------------------------------------
# devices.csv

DEVICES = []
DEVICE_INFO = {}
_used_nid = set()


def nid():
    while True:
        code = "DC26%08X" % rng.randrange(0, 1 << 32)
        if code not in _used_nid:
            _used_nid.add(code)
            return code


def add_device(kind, n, owner):
    sid = ("16MOMSPC3000%05d" if kind == "MOME" else "16SMISF81000%05d") % n
    assert len(sid) == 17
    row = dict(sid=sid, nid=nid(), device_type=kind, owner=owner)
    DEVICES.append(row)
    DEVICE_INFO[sid] = row
    return sid


ACME_MOME = [add_device("MOME", n, "acme") for n in range(1, 41)]
ACME_SMI = [add_device("Smart Info", n, "acme") for n in range(1, 41)]
VOLTAIC_MOME = [add_device("MOME", n, "voltaic") for n in range(101, 131)]
VOLTAIC_SMI = [add_device("Smart Info", n, "voltaic") for n in range(101, 131)]
OTHER = [add_device(kind, n, "other") for n in range(901, 906) for kind in ("MOME", "Smart Info")]

# ---------------------------------------------------------------------------------------------
# Requests. Each row: (cells as written, expected dict) — expected is None for blank lines.


def expect(code, tries, note=""):
    esito = {"OK": "Elaborato"}.get(code, "In errore")
    return dict(code=code, esito=esito, tries=tries, note=note)


def ok_note(pod_code, sid, config):
    parts = []
    if config.upper() == "PROSUMER":
        prods = PROSUMERS[pod_code.strip().upper()]
        parts.append("production POD %s (of %s)" % (first_production(pod_code.strip().upper()),
                                                    ", ".join(prods)))
    if POD_INFO[pod_code.strip().upper()]["matricola"][5] == "N":
        parts.append("GESIS meter: GESIS=SI, gesis=1")
    return "; ".join(parts)


def ok_row(pod_code, sid, config, tries=1, extra=""):
    note = ok_note(pod_code, sid, config)
    if extra:
        note = extra + ("; " + note if note else "")
    return ([pod_code, sid, config], expect("OK", tries, note))


# acme-clean.csv: Standard and Prosumer, MOME and Smart Info, GESIS, 15-character PODs.
clean_standard = [PLAIN[i] for i in (0, 1, 2, 6, 13, 39, 44, 241, 242, 3, 4, 5, 7, 8)]
clean_prosumer = [pod(1001), pod(1002), pod(1011), pod(1012), pod(1021), pod(1024)]
CLEAN = []
m = s = 0
for i, p in enumerate(clean_standard):
    if i % 2 == 0:
        sid = ACME_MOME[m]; m += 1
    else:
        sid = ACME_SMI[s]; s += 1
    CLEAN.append(ok_row(p, sid, "Standard"))
for i, p in enumerate(clean_prosumer):
    if i % 2 == 0:
        sid = ACME_SMI[s]; s += 1
    else:
        sid = ACME_MOME[m]; m += 1
    CLEAN.append(ok_row(p, sid, "Prosumer"))
# Interleave so that the two kinds alternate a bit in the file.
CLEAN = CLEAN[:5] + CLEAN[14:17] + CLEAN[5:10] + CLEAN[17:] + CLEAN[10:14]
assert len(CLEAN) == 20
CLEAN_PODS = [r[0][0] for r in CLEAN]
CLEAN_SIDS = [r[0][1] for r in CLEAN]
assert len(set(CLEAN_PODS)) == 20 and len(set(CLEAN_SIDS)) == 20

# acme-every-error.csv. Fresh acme devices from #21 on (clean uses #1..#10 of each kind).
fresh_mome = iter(ACME_MOME[20:])
fresh_smi = iter(ACME_SMI[20:])
fresh_plain = iter([PLAIN[i] for i in range(60, 120)])
E = []
E.append(ok_row(next(fresh_plain), next(fresh_mome), "Standard"))
first_ok_pod = E[-1][0][0]
E.append(ok_row(pod(1013), next(fresh_smi), "Prosumer"))
second_ok_sid = E[-1][0][1]
E.append(None)
# 1 INVALID_ROW
E.append(([next(fresh_plain), next(fresh_mome), "Standard", "extra"],
          expect("INVALID_ROW", 0, "four cells")))
E.append(([next(fresh_plain), next(fresh_mome)], expect("INVALID_ROW", 0, "two cells")))
# 2 INVALID_POD
E.append(([pod(104) + "00", next(fresh_mome), "Standard"],
          expect("INVALID_POD", 0, "16 characters")))
E.append((["IT001X00000105", next(fresh_mome), "Standard"],
          expect("INVALID_POD", 0, "not IT + 3 digits + E + 8 digits")))
E.append((["", next(fresh_mome), "Standard"], expect("INVALID_POD", 0, "empty POD")))
# 3 NID_NOT_ALLOWED, INVALID_SID
E.append(([next(fresh_plain), DEVICE_INFO[ACME_MOME[30]]["nid"], "Standard"],
          expect("NID_NOT_ALLOWED", 0, "the NID of acme's %s" % ACME_MOME[30])))
E.append(([next(fresh_plain), "16MOMSPC30000002", "Standard"],
          expect("INVALID_SID", 0, "16 characters")))
E.append(([next(fresh_plain), "", "Standard"],
          expect("INVALID_SID", 0, "empty middle cell: still three cells")))
E.append(([next(fresh_plain), "16MOMSPC3000-0029", "Standard"],
          expect("INVALID_SID", 0, "17 characters but not letters/digits")))
# 4 INVALID_CONFIG_TYPE
E.append(([next(fresh_plain), next(fresh_mome), "Ibrido"], expect("INVALID_CONFIG_TYPE", 0)))
# 5 DUPLICATE_POD, DUPLICATE_SID (of earlier rows that passed checks 1-5: the first OK rows)
E.append(([first_ok_pod, next(fresh_smi), "Standard"],
          expect("DUPLICATE_POD", 0, "POD of line 2")))
E.append(([next(fresh_plain), second_ok_sid, "Standard"],
          expect("DUPLICATE_SID", 0, "SID of line 3")))
E.append(None)
# 6..14
E.append(([pod(99999999 - 1), next(fresh_smi), "Standard"],
          expect("POD_NOT_FOUND", 1, "well-formed, not in the registry")))
E.append(([PROSUMERS[pod(1014)][0], next(fresh_smi), "Standard"],
          expect("POD_IS_PRODUCTION", 1, "an M2 POD of %s" % pod(1014))))
E.append(([NOT_TELEMANAGED[0], next(fresh_smi), "Standard"], expect("POD_NOT_TELEMANAGED", 1)))
E.append(([NOT_ELIGIBLE[0], next(fresh_smi), "Standard"], expect("METER_NOT_ELIGIBLE", 1)))
E.append(([next(fresh_plain), "16MOMSPC300099999", "Standard"],
          expect("DEVICE_NOT_FOUND", 1, "well-formed SID, not in the registry")))
E.append(([next(fresh_plain), VOLTAIC_SMI[29], "Standard"],
          expect("DEVICE_NOT_OWNED", 1, "a device of voltaic: its NID and TIPO DISPOSITIVO stay empty")))
E.append(([CLEAN_PODS[0], next(fresh_smi), "Standard"],
          expect("POD_ALREADY_ASSOCIATED", 1,
                 "needs acme-clean.csv first: its line 2 associated this POD")))
E.append(([next(fresh_plain), CLEAN_SIDS[1], "Standard"],
          expect("DEVICE_ALREADY_ASSOCIATED", 1,
                 "needs acme-clean.csv first: its line 3 associated this SID")))
E.append(([next(fresh_plain), next(fresh_smi), "Prosumer"],
          expect("NO_PRODUCTION_POD", 1, "a plain exchange POD")))
E.append(None)
# 15: transient
E.append(([UNREACHABLE[0], next(fresh_mome), "Standard"],
          expect("MAX_ATTEMPTS_REACHED", 5, "unreachable: In attesa between attempts")))
E.append(ok_row(FLAKY2[0], next(fresh_mome), "Standard", tries=3,
                extra="flaky:2: two failed probes, In attesa, then OK"))
E.append(ok_row(FLAKY1[0], next(fresh_mome), "Standard", tries=2,
                extra="flaky:1: one failed probe, then OK"))
E.append(([FLAKY10[0], next(fresh_mome), "Standard"],
          expect("MAX_ATTEMPTS_REACHED", 5,
                 "flaky:10: probes 1-5 fail; resubmitted, 6-10 fail; a third request succeeds")))
E.append(ok_row(FLAKY_PROSUMER, next(fresh_smi), "Prosumer", tries=3,
                extra="flaky:2 prosumer"))
E.append(None)
# A few more OK rows, in the dialect's corners: lower case, spaces, trailing empty cells.
E.append(ok_row(next(fresh_plain).lower(), next(fresh_mome).lower(), "standard",
                extra="lower case: values are upper-cased"))
E.append(ok_row(" " + next(fresh_plain) + " ", next(fresh_smi), " Standard ",
                extra="spaces around values: trimmed"))
E.append(ok_row(pod(1022), next(fresh_smi), "Prosumer"))
E[-1][0].extend(["", ""])  # trailing empty cells are ignored
E[-1][1]["note"] = "trailing empty cells ignored; " + E[-1][1]["note"]

# voltaic-excel.csv: Excel, Italian locale. Windows-1252, CRLF, no BOM, lower-case types,
# trailing empty cells (a column Excel remembers), a header with a non-ASCII character.
V = []
voltaic_plain = [PLAIN[i] for i in range(150, 158)]
for i, p in enumerate(voltaic_plain):
    sid = (VOLTAIC_MOME if i % 2 == 0 else VOLTAIC_SMI)[i]
    config = ["standard", "Standard", "STANDARD", "standard"][i % 4]
    V.append(ok_row(p, sid, config))
    if i % 3 == 0:
        V[-1][0].extend(["", ""])
    elif i % 3 == 1:
        V[-1][0].append("")
V.append(ok_row(pod(1003), VOLTAIC_SMI[20], "prosumer"))
V[-1][0].append("")
V.append(ok_row(pod(1023), VOLTAIC_MOME[20], "prosumer"))
V.append(ok_row(pod(1025), VOLTAIC_SMI[21], "Prosumer"))
V[-1][0].extend(["", ""])

# ---------------------------------------------------------------------------------------------
# Writing


def write(path, data):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data)


def registry_csv(header, rows):
    lines = [",".join(header)] + [",".join(r[k] for k in header) for r in rows]
    return ("\n".join(lines) + "\n").encode("ascii")


POD_HEADER = ["pod", "eneltel", "matricola", "meter_type", "exchange_pod", "telemanaged",
              "eligible", "reachability", "holder_tax_code"]
write("registry/pods.csv", registry_csv(POD_HEADER, PODS))
write("registry/devices.csv", registry_csv(["sid", "nid", "device_type", "owner"], DEVICES))
write("tenants.csv", b"id,name\nacme,ACME Impianti S.r.l.\nvoltaic,Voltaic Integrazioni S.p.A.\n")

TEMPLATE_HEADER = "POD;Identificativo MOME/Smart INFO;Tipo Configurazione"
write("template.csv", (TEMPLATE_HEADER + "\r\n").encode("ascii"))


def request_csv(rows, header, encoding):
    lines = [header] + ["" if r is None else ";".join(r[0]) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


write("requests/acme-clean.csv", request_csv(CLEAN, TEMPLATE_HEADER, "utf-8"))
write("requests/acme-every-error.csv", request_csv(E, TEMPLATE_HEADER, "utf-8"))
VOLTAIC_HEADER = "POD;Identificativo MOME/Smart INFO;Tipo Configurazione (modalità)"
voltaic_bytes = request_csv(V, VOLTAIC_HEADER, "cp1252")
try:
    voltaic_bytes.decode("utf-8")
    raise SystemExit("voltaic-excel.csv must not be valid UTF-8")
except UnicodeDecodeError:
    pass
write("requests/voltaic-excel.csv", voltaic_bytes)

# ---------------------------------------------------------------------------------------------
# requests/README.md


def table(rows):
    out = ["| line | POD | SID | type | ESITO | CODICE | TENTATIVI | notes |",
           "|---:|---|---|---|---|---|---:|---|"]
    line = 1
    for r in rows:
        line += 1
        if r is None:
            out.append("| %d | *(blank line: skipped, not counted)* | | | | | | |" % line)
            continue
        cells, e = r
        shown = [c if c.strip() else "*(empty)*" for c in cells[:3]]
        while len(shown) < 3:
            shown.append("—")
        if len(cells) > 3 and any(c for c in cells[3:]):
            shown[2] += " ; " + " ; ".join(cells[3:])
        shown = ["`%s`" % c if c not in ("*(empty)*", "—") else c for c in shown]
        out.append("| %d | %s | %s | %s | %s | %s | %d | %s |" % (
            line, shown[0], shown[1], shown[2], e["esito"], e["code"], e["tries"], e["note"]))
    return "\n".join(out)


def summary(rows):
    data = [r for r in rows if r is not None]
    ok = sum(1 for r in data if r[1]["code"] == "OK")
    return len(data), ok, len(data) - ok


def line_of(rows, code):
    return [i + 2 for i, r in enumerate(rows) if r is not None and r[1]["code"] == code]


assert E[0][0][0] == E[line_of(E, "DUPLICATE_POD")[0] - 2][0][0]          # line 2
assert E[1][0][1] == E[line_of(E, "DUPLICATE_SID")[0] - 2][0][1]          # line 3
ALREADY_LINES = (line_of(E, "POD_ALREADY_ASSOCIATED")[0], line_of(E, "DEVICE_ALREADY_ASSOCIATED")[0])

n_clean = summary(CLEAN)
n_err = summary(E)
n_v = summary(V)
readme = f"""# Sample requests

Generated by `samples/generate-samples.py` (deterministic; edit the script, not these files).
They are meant for a fresh embedded registry loaded from `samples/registry/`, the tenants of
`samples/tenants.csv`, and the demo configuration `samples/massiva.cf`. `scripts/run` sets all
that up; by hand:

```sh
massiva --config samples/massiva.cf registry import samples/registry
massiva --config samples/massiva.cf tenant add acme --name "ACME Impianti S.r.l."
massiva --config samples/massiva.cf tenant add voltaic --name "Voltaic Integrazioni S.p.A."
cp samples/requests/acme-clean.csv        spool/tenants/acme/incoming/
# after acme-clean.csv is done (two rows below depend on it):
cp samples/requests/acme-every-error.csv  spool/tenants/acme/incoming/
cp samples/requests/voltaic-excel.csv     spool/tenants/voltaic/incoming/
```

Line numbers count the header as line 1 and include blank lines. TENTATIVI is the number of
times a row was tried against the registry: 0 for rows refused by checks 1–5, 1 for rows that
fail a registry check, more for retried rows (one reachability probe per attempt, with
`max_attempts = 5`). With the demo backoff (2 s doubling up to 10 s) every request is `done`
within about half a minute.

The registry's `flaky:N` counters and the associations live in the database, and a re-import
of the registry keeps them: submitting the same file again gives different outcomes (mostly
`POD_ALREADY_ASSOCIATED`). To start over, stop massiva and remove the spool's runtime contents
(`rm -rf spool/private spool/tenants`), then run `scripts/run` again.

## `acme-clean.csv` — {n_clean[0]} rows, all OK

UTF-8 without BOM, `;`, CRLF, the template's header. Standard and Prosumer rows, MOME and
Smart Info devices of acme, GESIS meters, PODs with the optional 15th character and of other
distributors. Prosumer rows name the exchange POD; the association takes the **alphabetically
first** production POD, which, for exchange PODs with two or three, is never the one listed
first in `pods.csv` (`IT001E00001024` tests the optional 15th character: `...241A` < `...241B`
< `...243`).
Expected request outcome: **Lavorato**, `{n_clean[0]}/{n_clean[0]}`, 0 errors, {n_clean[1]} SCP
scripts in `scp.zip`.

{table(CLEAN)}

## `acme-every-error.csv` — {n_err[0]} data rows: {n_err[1]} OK, {n_err[2]} in error

Every row outcome of the brief's table, in the order of the checks (first failure wins), with
blank lines (skipped, not counted in `rows_total`). **Submit it after `acme-clean.csv` has been
processed**: lines {ALREADY_LINES[0]} and {ALREADY_LINES[1]} (`POD_ALREADY_ASSOCIATED`, `DEVICE_ALREADY_ASSOCIATED`) reuse a
POD and a SID that acme-clean.csv associated; on a fresh registry they would be OK instead.
`DUPLICATE_POD`/`DUPLICATE_SID` refer to the OK rows at the top of this file (rows that passed
checks 1–5). The retried rows stay *In attesa* between attempts while the request is
`processing`; the SCPs of the rows already associated are in `scp.zip` meanwhile.
Expected request outcome: **Lavorato con errori: raggiunto massimo numero di tentativi**
(two rows run out of attempts), `{n_err[0]}/{n_err[0]}`, {n_err[2]} errors, {n_err[1]} SCP scripts.

{table(E)}

## `voltaic-excel.csv` — {n_v[0]} rows, all OK

What Excel in an Italian locale saves: **Windows-1252** (the header's `à` is the single byte
0xE0, so the file is not UTF-8), no BOM, `;`, CRLF, configuration types in any case
(`standard`, `STANDARD`, `prosumer`), and trailing empty cells (`;` or `;;`) on some rows, which
are ignored. The header differs from the template (`Tipo Configurazione (modalità)`): it is
recognised as a header because none of its cells contains a digit.
Expected request outcome: **Lavorato**, `{n_v[0]}/{n_v[0]}`, 0 errors, {n_v[1]} SCP scripts.

{table(V)}

## `../template.csv`

The manual's template: the header line only (CRLF). Submitted as is it is **rejected**
(*Rifiutato*: no data row).
"""
write("requests/README.md", readme.encode("utf-8"))

print("pods: %d (%d M2), devices: %d, requests: clean %d, every-error %d, voltaic %d" % (
    len(PODS), sum(1 for p in PODS if p["meter_type"] == "M2"), len(DEVICES),
    n_clean[0], n_err[0], n_v[0]))
