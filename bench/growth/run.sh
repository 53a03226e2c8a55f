#!/bin/sh
# The growth check over HTTP (issue 22): the catalogue's list and search
# pages at SMALL_URL's size and LARGE_URL's, the same requests alternating,
# 32 workers from vegeta, ROUNDS rounds of DURATION each. Seed and analyse
# the two databases first (karigar seed --products analyses what it wrote):
#
#   createdb karigar_1k && createdb karigar_100k
#   KARIGAR_DATABASE_URL=postgres://…/karigar_1k   go run ./cmd/karigar seed --products 1000
#   KARIGAR_DATABASE_URL=postgres://…/karigar_100k go run ./cmd/karigar seed --products 100000
#   SMALL_URL=postgres://…/karigar_1k LARGE_URL=postgres://…/karigar_100k bench/growth/run.sh
#
# Prints one line per request, size and round: rate, p50, p99, status codes.
# At the large size each page should be within 1.5 times the small size's
# p99 and rate, round for round. Keep it short on a shared machine; there,
# TOGETHER=1 attacks both sizes at once (16 workers each), so that both meet
# the same load from elsewhere.
set -eu
: "${SMALL_URL:?postgres URL of the small database}" "${LARGE_URL:?postgres URL of the large database}"
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-2}
VEGETA=${VEGETA:-go run github.com/tsenart/vegeta/v12@v12.13.0}
out=$(mktemp -d)
small_pid= large_pid=
trap 'kill $small_pid $large_pid 2>/dev/null; rm -rf "$out"' EXIT
go build -o "$out/karigar" ./cmd/karigar

start() { # start URL PORT: a server on 127.0.0.1:PORT over the database at URL
	KARIGAR_DATABASE_URL=$1 KARIGAR_ADDR=127.0.0.1:$2 KARIGAR_JWT_SECRET=growth-check-growth-check-growth-check \
		KARIGAR_LOG_LEVEL=warn "$out/karigar" serve >"$out/serve-$2.log" 2>&1 &
}
start "$SMALL_URL" 18081; small_pid=$!
start "$LARGE_URL" 18082; large_pid=$!
for port in 18081 18082; do
	until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
done

# name and path of each page: the categories with their counts, the category
# list, lists by price in a province, search as typed in Roman Urdu and in Urdu
# (رلی), and misspelt.
pages='categories /api/v1/categories
category /api/v1/products?category=textiles&limit=20
sindh-price /api/v1/products?province=sindh&sort=price_asc
balochistan-price /api/v1/products?province=balochistan&sort=price_asc
search-ralli /api/v1/products?q=ralli
search-urdu /api/v1/products?q=%D8%B1%D9%84%DB%8C
search-typo /api/v1/products?q=rali'
pages=$(echo "$pages" | grep "^${ONLY:-}") # ONLY=search: the pages whose name begins so

report() { # report JSON NAME SIZE ROUND
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); l=r["latencies"]
print("%-17s %-5s round %s  %7.0f req/s  p50 %6.1f ms  p99 %6.1f ms  codes %s" % (sys.argv[2], sys.argv[3], sys.argv[4],
  r["throughput"], l["50th"]/1e6, l["99th"]/1e6, r["status_codes"]))' "$@"
}
attack() { # attack PORT PATH WORKERS JSON
	echo "GET http://127.0.0.1:$1$2" |
		$VEGETA attack -rate=0 -max-workers="$3" -workers "$3" -duration="$DURATION" |
		$VEGETA report -type=json >"$4"
}

round=1
while [ "$round" -le "$ROUNDS" ]; do
	echo "$pages" | while read -r name path; do
		if [ -n "${TOGETHER:-}" ]; then
			# Both sizes at once, 16 workers each: on a machine others load
			# too, both meet the same noise.
			attack 18081 "$path" 16 "$out/small.json" &
			attack 18082 "$path" 16 "$out/large.json"
			wait
			report "$out/small.json" "$name" small "$round"
			report "$out/large.json" "$name" large "$round"
			continue
		fi
		attack 18081 "$path" 32 "$out/small.json"
		report "$out/small.json" "$name" small "$round"
		attack 18082 "$path" 32 "$out/large.json"
		report "$out/large.json" "$name" large "$round"
	done
	round=$((round + 1))
done
