#!/usr/bin/env bash
# Translation gate: every interface string is translated in every shipped language, and the
# compiled catalogues (.mo, what Django reads) match their sources (.po).
#
# 1. Runs `civility manage makemessages` on a temporary copy of the package, so a string added
#    to the code or templates since the last translation round shows up as untranslated there
#    (the working tree is not touched).
# 2. Fails if any shipped language has an untranslated or fuzzy message (msgfmt --statistics),
#    or a format string whose placeholders differ from the English one (msgfmt --check-format).
# 3. Fails if a committed .mo is missing or holds other translations than its .po.
#
# Usage: scripts/check_translations.sh            (from anywhere in the repository)
#        PYTHON=/path/to/python scripts/check_translations.sh
# Needs GNU gettext (xgettext, msgmerge, msgfmt): `apt-get install -y gettext`.
# After adding strings: cd src/civility && ../../.venv/bin/civility manage makemessages \
#   -l ru -l es -l fr -l ar --no-location, translate, then compile (see src/civility/locale/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
LANGUAGES=(ru es fr ar)

for tool in xgettext msgmerge msgfmt; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "check_translations: $tool not found; install GNU gettext (apt-get install -y gettext)" >&2
    exit 1
  fi
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp -r "$ROOT/src/civility" "$WORK/civility"
find "$WORK/civility" -name '__pycache__' -prune -exec rm -rf {} +

# The copy is imported instead of the installed package, so LOCALE_PATHS points into it.
language_flags=()
for language in "${LANGUAGES[@]}"; do language_flags+=(-l "$language"); done
(
  cd "$WORK/civility"
  PYTHONPATH="$WORK${PYTHONPATH:+:$PYTHONPATH}" CIVILITY_DATA_DIR="$WORK/var" \
    "$PYTHON" -m civility.cli manage makemessages "${language_flags[@]}" --no-location \
    --ignore 'static/*' >"$WORK/makemessages.log" 2>&1 ||
    { cat "$WORK/makemessages.log" >&2; exit 1; }
  if compgen -G "$ROOT/src/civility/locale/*/LC_MESSAGES/djangojs.po" >/dev/null; then
    PYTHONPATH="$WORK${PYTHONPATH:+:$PYTHONPATH}" CIVILITY_DATA_DIR="$WORK/var" \
      "$PYTHON" -m civility.cli manage makemessages -d djangojs "${language_flags[@]}" \
      --no-location >>"$WORK/makemessages.log" 2>&1 ||
      { cat "$WORK/makemessages.log" >&2; exit 1; }
  fi
)

failures=0
for language in "${LANGUAGES[@]}"; do
  for fresh in "$WORK/civility/locale/$language/LC_MESSAGES/"*.po; do
    [ -e "$fresh" ] || { echo "FAIL $language: no catalogue" >&2; failures=$((failures + 1)); continue; }
    domain=$(basename "$fresh" .po)
    committed_po="$ROOT/src/civility/locale/$language/LC_MESSAGES/$domain.po"
    committed_mo="$ROOT/src/civility/locale/$language/LC_MESSAGES/$domain.mo"
    if ! stats=$(msgfmt --check-format --check-header --statistics -o /dev/null "$fresh" 2>&1); then
      echo "FAIL $language/$domain: msgfmt --check-format:" >&2
      echo "$stats" >&2
      failures=$((failures + 1))
      continue
    fi
    if [[ "$stats" == *untranslated* || "$stats" == *fuzzy* ]]; then
      echo "FAIL $language/$domain: $stats" >&2
      { msgattrib --untranslated "$fresh"; msgattrib --only-fuzzy "$fresh"; } 2>/dev/null |
        grep '^msgid ' | grep -v '^msgid ""$' | head -20 >&2 || true
      failures=$((failures + 1))
      continue
    fi
    if [ ! -f "$committed_po" ] || [ ! -f "$committed_mo" ]; then
      echo "FAIL $language/$domain: $committed_po or its .mo is not committed" >&2
      failures=$((failures + 1))
      continue
    fi
    # Compare what Django would read, not bytes: msgfmt versions lay out .mo files differently.
    msgfmt -o "$WORK/$language-$domain.mo" "$committed_po"
    if ! "$PYTHON" - "$WORK/$language-$domain.mo" "$committed_mo" <<'PY'
import gettext
import sys

expected, committed = (gettext.GNUTranslations(open(path, "rb"))._catalog for path in sys.argv[1:])
sys.exit(0 if expected == committed else 1)
PY
    then
      echo "FAIL $language/$domain: $committed_mo is stale; run msgfmt -o $committed_mo $committed_po" >&2
      failures=$((failures + 1))
      continue
    fi
    echo "ok   $language/$domain: $stats"
  done
done

if [ "$failures" -ne 0 ]; then
  echo "check_translations: $failures catalogue(s) failed" >&2
  exit 1
fi
echo "check_translations: every shipped language is complete and compiled"
