#!/usr/bin/env bash
# Refresh the vendored front-end assets from the npm registry.
# The copies under kechuang/static/vendor are committed, so a deployment on an
# offline intranet needs neither npm nor a CDN; run this only to upgrade them.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --silent
v=kechuang/static/vendor
mkdir -p $v/bootstrap $v/bootstrap-icons/fonts $v/htmx $v/echarts
cp node_modules/bootstrap/dist/css/bootstrap.min.css $v/bootstrap/
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js $v/bootstrap/
cp node_modules/bootstrap-icons/font/bootstrap-icons.min.css $v/bootstrap-icons/
cp node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff2 $v/bootstrap-icons/fonts/
cp node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff $v/bootstrap-icons/fonts/
cp node_modules/htmx.org/dist/htmx.min.js $v/htmx/
cp node_modules/echarts/dist/echarts.min.js $v/echarts/
# The .map files are not vendored: drop the comments that point at them, or
# collectstatic's manifest storage stops on the missing target (docs/operations.md).
find $v -name '*.css' -o -name '*.js' | xargs sed -i -E '/^\/[*\/]# sourceMappingURL=/d'
echo "vendored assets refreshed in $v"
