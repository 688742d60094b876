#!/usr/bin/env bash
# Builds the collection tarball, installs it as a user would, checks that ansible-doc documents every module
# and filter of the installed copy, and runs ansible-test sanity on it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ansible-galaxy collection build --force --output-path "$work" "$root" >/dev/null
ansible-galaxy collection install --force -p "$work/collections" "$work"/podnet-netmodes-*.tar.gz >/dev/null
installed="$work/collections/ansible_collections/podnet/netmodes"

for module in "$installed"/plugins/modules/*.py; do
  ANSIBLE_COLLECTIONS_PATH="$work/collections" ansible-doc "podnet.netmodes.$(basename "$module" .py)" >/dev/null
done
for filter in "$installed"/plugins/filter/*.py; do
  ANSIBLE_COLLECTIONS_PATH="$work/collections" ansible-doc -t filter "podnet.netmodes.$(basename "$filter" .py)" >/dev/null
done
echo "ansible-doc documents every module and filter of the built collection"

# ansible-test bootstraps pip in its venvs with a script from a host this machine cannot reach.
pip_version=$(python - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
print(get_venv_packages(NativePythonConfig(version='3.11'))['pip'])
PY
)
mkdir -p ~/.ansible/test/cache
cp "$root/tests/sanity/get_pip_offline.py" ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"

cd "$installed"
# Lab, test and benchmark tooling runs on the controller only; sanity covers what the collection ships to users.
excludes=()
for dir in tests lab benchmarks molecule; do
  [ -n "$(find "$dir" -type f 2>/dev/null | head -n 1)" ] && excludes+=(--exclude "$dir/")
done
ansible-test sanity --venv --requirements --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
  "${excludes[@]}" "$@"
