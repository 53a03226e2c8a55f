#!/bin/sh
# Pins the manifests to a release: the image tag in kustomization.yaml,
# deployment.yaml and migrate-job.yaml, and the migration Job's name and
# version label (v1.2.3 -> karigar-migrate-v1-2-3).
#   deployments/k8s/release.sh v1.2.3
# Then check: go test ./deployments/ && kubectl kustomize deployments/k8s
set -eu
new=${1:?usage: release.sh vX.Y.Z}
case $new in
v[0-9]*.[0-9]*.[0-9]*) ;;
*) echo "release.sh: want a version like v1.2.3, not $new" >&2; exit 2 ;;
esac
cd "$(dirname "$0")"
old=$(sed -n 's/^ *newTag: *//p' kustomization.yaml)
[ -n "$old" ] || { echo "release.sh: no newTag in kustomization.yaml" >&2; exit 1; }
oldjob=karigar-migrate-$(echo "$old" | tr . -)
newjob=karigar-migrate-$(echo "$new" | tr . -)
sed -i "s/^\( *newTag: *\)$old\$/\1$new/" kustomization.yaml
sed -i "s|ghcr.io/karigar/karigar:$old\$|ghcr.io/karigar/karigar:$new|" deployment.yaml migrate-job.yaml
sed -i "s/$oldjob\$/$newjob/; s|\(app.kubernetes.io/version: *\)$old\$|\1$new|" migrate-job.yaml
echo "pinned $new (Job $newjob)"
