"""MWAA endpoints: api./env./ops. host prefixes of airflow.<region>.amazonaws.com."""

from .responses import MWAAResponse, redeem_web_login_token

url_bases = [r"https?://(?:api\.|env\.|ops\.)?airflow\.(.+)\.amazonaws\.com"]

url_paths = {
    "{0}/environments$": MWAAResponse.dispatch,
    "{0}/environments/(?P<Name>[^/]+)$": MWAAResponse.dispatch,
    "{0}/webtoken/(?P<Name>[^/]+)$": MWAAResponse.dispatch,
    "{0}/clitoken/(?P<Name>[^/]+)$": MWAAResponse.dispatch,
    "{0}/tags/(?P<ResourceArn>.+)$": MWAAResponse.dispatch,
    # devstack only: how the web server stand-ins redeem a web login token
    "{0}/devstack/webtoken/(?P<Name>[^/]+)/redeem$": redeem_web_login_token,
}
