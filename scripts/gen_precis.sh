#!/bin/sh
# Makes irc_precis_tab.h (casemapping precis) from the Unicode data of
# the system's ICU: on Debian, apt-get install libicu-dev pkg-config.
# The table in the tree was made with Debian 12's libicu-dev 72.1
# (Unicode 15.0); the server itself never links ICU. It then remakes
# irc_precis_nfc.h (scripts/gen_nfc.py) from the new letters.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${CC:-cc} -O2 -o "$tmp/gen_precis" scripts/gen_precis.c \
    $(pkg-config --cflags --libs icu-uc icu-i18n)
"$tmp/gen_precis" > "$tmp/irc_precis_tab.h"
mv "$tmp/irc_precis_tab.h" irc_precis_tab.h
# the NFC tables follow the letters allowed
python3 scripts/gen_nfc.py
