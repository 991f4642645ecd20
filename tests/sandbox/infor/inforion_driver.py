"""Drive the public ``inforion`` client against the sandbox. Runs in the isolated ``.venv-inforion``.

Usage: ``python inforion_driver.py IONAPI_FILE COMPANY ITEM`` -> prints one JSON object with what it saw.
Only inforion's own functions log in and send the MI calls; nothing here patches it.
"""

import json
import sys
from datetime import datetime, timedelta

import requests
from inforion.ionapi.model import fetchApiData, inforlogin


def main(ionapi_file, company, item):
    seen = {}
    inforlogin.load_config(ionapi_file)
    token = inforlogin.login()
    seen["token_type"] = token["token_type"]
    headers = inforlogin.header()
    url = inforlogin.base_url() + "/M3/m3api-rest/v2/execute"

    added = fetchApiData(
        url,
        headers,
        "CRS610MI",
        "Add",
        int(company),
        {"CUTM": "TMPL01", "CUNO": "INFORION1", "CUNM": "Added by inforion", "CUA1": "1 Loop Rd"},
    )
    seen["add"] = added["results"][0]

    single = requests.get(
        url + "/CRS610MI/GetBasicData", params={"CUNO": "INFORION1"}, headers=inforlogin.header(), timeout=30
    )
    seen["single_status"] = single.status_code
    seen["single"] = single.json()["results"][0]["records"][0]["CUNM"]

    failed = fetchApiData(url, headers, "CRS610MI", "GetBasicData", int(company), {"CUNO": "NOSUCH"})
    seen["failed"] = failed["results"][0]

    # Force inforion's own expiry check: sendresults() refreshes the token with the refresh grant.
    inforlogin._GLOBAL_session_expire = datetime.now() - timedelta(seconds=1)
    item_read = fetchApiData(url, headers, "MMS200MI", "GetItmBasic", int(company), {"ITNO": item})
    seen["after_refresh"] = item_read["results"][0]["records"][0]["ITNO"]
    seen["refreshed_expiry_in_future"] = inforlogin._GLOBAL_session_expire > datetime.now()
    print(json.dumps(seen))


if __name__ == "__main__":
    main(*sys.argv[1:])
