"""CDK entry point: `npx aws-cdk@2 synth` (or `python app.py`) builds Baton's stack from cdk.json.

BATON_BUNDLING=0 skips Lambda bundling (the asset is the source folder): quick, offline, not deployable.
"""

import os

from infra.synth import build_app

if __name__ == "__main__":
    build_app(bundling=os.environ.get("BATON_BUNDLING", "1") != "0").synth()
