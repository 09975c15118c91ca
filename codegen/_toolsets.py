"""Toolset rules: which resource family each operation belongs to.

Every generated tool belongs to exactly one toolset, named "<service>.<family>" (for example
"zia.url_filtering"), so that an agent can enable one resource family at a time. Families follow
the way an administrator navigates each product (URL filtering, firewall, DLP, app segments, ...)
and hold about 10-40 operations each.

The mapping works on the operation's HTTP path. The service prefix (for example "/zia/api/v1") is
removed first, then the service's rules are tried in order and the first regex that matches
(re.search) wins. Rules are anchored at the first path segment after the prefix, so
"/locations/groups/{id}" and "/locations" land in the same family, and a new endpoint under an
existing resource is picked up without a rule change.

Pure data plus one function: no I/O, no dependencies, deterministic.
"""

from __future__ import annotations

import re

__all__ = ["BASE_PATHS", "TOOLSET_RULES", "TOOLSET_DESCRIPTIONS", "toolset_for"]


def _seg(*names: str) -> str:
    """Regex for a stripped path led by one of names: "/users", "/users/{id}", "/users:bulkdelete"."""
    return r"^/(?:" + "|".join(names) + r")(?:[/:]|$)"


# Path prefixes removed before the rules are applied. Tried longest first; a prefix only matches
# at a segment boundary. ZPA and ZCC expose several API roots.
BASE_PATHS: dict[str, tuple[str, ...]] = {
    "zia": ("/zia/api/v1",),
    "zpa": (
        "/zpa/mgmtconfig/v1/admin/customers/{customerId}",
        "/zpa/mgmtconfig/v2/admin/customers/{customerId}",
        "/zpa/userconfig/v1/customers/{customerId}",
        "/zpa/cbiconfig/cbi/api/customers/{customerId}",
        "/zpa/waap-pra-config/v1/admin/customers/{customerId}",
        "/zpa/mgmtconfig/v1/admin",  # customer-independent: /me, /zpathCloud, /inspectionControls
        "/zpa/mgmtconfig/v2/admin",  # customer-independent: /lssConfig/...
    ),
    "ztw": ("/ztw/api/v1",),
    "zcc": ("/zcc/papi/public/v1", "/zcc/papi"),  # "/zcc/papi" covers /auth/v1, /cred/v1, /ratelimit/v1
    "zdx": ("/zdx/v1",),
    "zid": ("/ziam/admin/api/v1",),
}

# per service: ordered (regex, family) pairs; the first regex that matches (re.search) the operation's
# path with the service prefix removed wins. family is a snake_case word; the toolset name is f"{service}.{family}".
TOOLSET_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "zia": (
        (_seg("users", "groups", "departments", "unified-datasync"), "users"),
        (_seg("adminUsers", "adminRoles", "passwordExpiry", "auditReport", "auditlogEntryReport",
              "eventlogEntryReport", "status"), "admin"),
        (_seg("casbDlpRules"), "dlp_rules"),
        (_seg("casbMalwareRules", "quarantineTombstoneTemplate", "zscsb"), "threat_protection"),
        (_seg("casbTenant", "casbEmailLabel"), "dlp_rules"),
        (_seg("authSettings", "authProfiles", "authenticatedSession", "mobileauthenticatedSession"),
         "authentication"),
        (_seg("orgInformation", "subscriptions", "eusaStatus", "productContacts", "advancedSettings",
              "ftpSettings", "remoteAssistance", "alertSubscriptions", "eun", "eunTemplate", "userConfirmation",
              "exportPolicies"), "org_settings"),
        (_seg("ruleLabels", "timeIntervals", "timeWindows", "workloadGroups", "deviceGroups",
              "iotDiscovery"), "policy_objects"),
        (_seg("urlCategories", "urlFilteringRules", "urlLookup", "advancedUrlFilterAndCloudAppSettings",
              "browserControlSettings"), "url_filtering"),
        (_seg("cloudApplications", "cloudApplicationInstances", "webApplicationRules",
              "tenancyRestrictionProfile", "riskProfiles", "shadowIT", "customTags"), "cloud_apps"),
        (_seg("firewallFilteringRules", "firewallDnsRules", "firewallIpsRules", "ipsCategories",
              "dnatRules", "trafficCaptureRules", "networkApplications", "networkApplicationGroups"), "firewall"),
        (_seg("ipGroups", "ipSourceGroups", "ipDestinationGroups", "networkServices", "networkServiceGroups",
              "networkApplications", "networkApplicationGroups", "appServices", "appServiceGroups"),
         "firewall_objects"),
        (_seg("sslInspectionRules", "intermediateCaCertificate"), "ssl_inspection"),
        (_seg("security", "cyberThreatProtection", "sandbox", "sandboxRules",
              "behavioralAnalysisAdvancedSettings", "mobileAdvanceThreatSettings"), "threat_protection"),
        (_seg("fileTypeRules", "customFileTypes", "fileTypeCategories"), "file_type_control"),
        (_seg("bandwidthClasses", "bandwidthControlRules"), "bandwidth_control"),
        (_seg("isolationTenantMgmt", "browserIsolation"), "browser_isolation"),
        (_seg("dlpDictionaries", "dlpEngines", "dlpExactDataMatchSchemas", "idmprofile", "redactionProfiles"),
         "dlp"),
        (_seg("webDlpRules", "emailDlpRules", "dlpNotificationTemplates", "domainProfiles", "emailTenant"),
         "dlp_rules"),
        (_seg("icapServers", "incidentReceiverServers", "cloudToCloudIR"), "dlp_incident_receivers"),
        (_seg("endPointApplications", "endPointApplicationGroups"), "endpoint_dlp"),
        (_seg("locations", "region", "ipv6config"), "locations"),
        (_seg("greTunnels", "vpnCredentials", "staticIP", "vips", "pacFiles", "orgProvisioning", "ipAddresses",
              "configAudit"), "traffic_forwarding"),
        (_seg("forwardingRules", "zpaGateways", "zpaResources", "proxies", "proxyGateways",
              "dedicatedIPGateways", "dnsGateways", "extranet"), "forwarding_control"),
        (_seg("datacenters", "dcExclusions", "subclouds", "virtualZenClusters", "virtualZenNodes"),
         "service_edges"),
        (_seg("nssFeeds", "nssServers", "nssDownload", "nssHyperV", "nssNutanix", "reportFilter"), "nss"),
    ),
    "zpa": (
        (_seg("application", "server", "serverGroup"), "app_segments"),
        (_seg("appConnectorGroup", "connector", "enrollmentCert", "visible",
              "cloudConnectorGroup", "configOverrides", "zpathCloud", "branchConnector", "branchConnectorGroup",
              "connectorSchedule", "versionProfile", "versionProfiles"), "connectors"),
        (_seg("serviceEdge", "serviceEdgeGroup", "privateCloudController", "privateCloudControllerGroup",
              "serviceEdgeSchedule", "privateCloud", "businessContinuitySettings"), "service_edges"),
        (_seg("policySet", "posture", "network", "machineGroup", "clientTypes", "platform", "location",
              "segmentGroup"), "policies"),
        (_seg("idp", "samlAttribute", "scimattribute", "scimgroup", "authDomains", "iamidpmapping",
              "stepupauthlevel", r"\{associationType\}/usercodes"), "identity"),
        (_seg("administrators", "roles", "permissionGroups", "apiKeys", "me", "microtenants",
              "emergencyAccess", "v2/ssoLoginOptions"), "admin"),
        (_seg("inspectionControls", "inspectionProfile", "browserProtectionProfile",
              "activeBrowserProtectionProfile"), "app_protection"),
        (_seg("lssConfig"), "lss"),
        (_seg("praConsole", "praPortal", "credential", "credential-pool", "approval"), "pra"),
        # Must precede the CBI rule: "/certificate/issued" (mgmtconfig v2) vs CBI "POST /certificate".
        (_seg("userPortal", "userPortalLink", "certificate/issued", "clientlessCertificate", "userportal/aup",
              "browserAccessGroups"), "user_portals"),
        (_seg("banner", "banners", "certificate", "certificates", "profiles", "regions", "zpaprofiles",
              "isolation"), "cbi"),
        (_seg("v2/ipRanges", "v2/associationtype", "associationType", "clientSetting", "vpnConnectedUsers"),
         "c2c_vpn"),
    ),
    "ztw": (
        (_seg("adminUsers", "adminRoles", "auth", "passwordChange", "auditlogEntryReport",
              "ecAdminActivateStatus", "health", "apiKeys"), "admin"),
        (_seg("ecgroup", "ecVMgroup", "ecVm", "ecInstance", "ztgroup", "ecbuild", "applianceInfo"), "connectors"),
        (_seg("provUrl", "ccaTemplate", "ccaCsr", "generateToken"), "provisioning"),
        (_seg("location", "locationTemplate"), "locations"),
        (_seg("ecRules", "gateways", "zpaResources"), "forwarding"),
        (_seg("ipGroups", "ipSourceGroups", "ipDestinationGroups", "networkServices", "networkServiceGroups",
              "workloadGroups"), "network_objects"),
        (_seg("publicCloudAccountDetails", "publicCloudAccountIdStatus", "accountGroups", "publicCloudInfo",
              "discoveryService"), "public_cloud"),
    ),
    "zcc": (
        (_seg("getDevices", "getDeviceDetails", "downloadDevices", "downloadDisableReasons",
              "downloadServiceStatus", "removeDevices", "forceRemoveDevices", "removeMachineTunnel",
              "getDeviceCleanupInfo", "setDeviceCleanupInfo", "getOtp", "getPasswords", "managePass",
              "userIdsByUserName"), "devices"),
        (_seg("application-profiles", "custom-ip-based-apps", "predefined-ip-based-apps", "process-based-apps",
              "web", "webAppService", "webFailOpenPolicy", "webForwardingProfile", "webTrustedNetwork"),
         "policies"),
        (_seg("getAdminUsers", "editAdminUser", "getAdminRoles", "getAdminUsersSyncInfo", "syncZiaZdxAdminUsers",
              "syncZpaAdminUsers", "getZdxGroupEntitlements", "updateZdxGroupEntitlement",
              "getZpaGroupEntitlements", "updateZpaGroupEntitlement", "getCompanyInfo", "getWebPrivacyInfo",
              "setWebPrivacyInfo", "auth", "cred", "ratelimit"), "admin"),
    ),
    "zdx": (
        (_seg("devices", "config/tracing"), "devices"),
        (_seg("apps", "alerts", "analysis", "snapshot"), "apps"),
        (_seg("config/monitors", r"config/applications/\{[^}]+\}/monitors"), "monitors"),
        (_seg("config/applications", "config/collections"), "applications"),
        (_seg("users", "administration", "active_geo", "inventory", "oauth", "config"), "admin"),
    ),
    "zid": (
        (_seg("users", "groups"), "users"),
        (_seg("api-clients", "resource-servers"), "api_clients"),
    ),
}

TOOLSET_DESCRIPTIONS: dict[str, str] = {
    # ZIA - Internet Access
    "zia.users": "Users, groups and departments, plus unified data-sync lookups of users, groups and devices.",
    "zia.admin": "Admin users and roles, password expiry, audit/event log reports, and configuration "
                 "activation (activation status and activate pending changes).",
    "zia.authentication": "Authentication settings and exempted URLs, authentication profiles and "
                          "authenticated sessions.",
    "zia.org_settings": "Organization info and subscriptions, EUSA, advanced and FTP settings, remote assistance, "
                        "alert subscriptions, end-user notifications and policy export.",
    "zia.policy_objects": "Shared rule criteria: rule labels, time intervals/windows, workload groups, device groups "
                          "and IoT device discovery.",
    "zia.url_filtering": "URL categories, URL filtering rules, URL lookup, advanced URL filter and browser "
                         "control settings.",
    "zia.cloud_apps": "Cloud app control: cloud applications and instances, web application rules, tenancy "
                      "restriction profiles, risk profiles, Shadow IT exports and custom tags.",
    "zia.firewall": "Cloud firewall filtering, DNS and IPS rules, NAT (DNAT) rules, IPS categories, traffic "
                    "capture rules, and the network applications and application groups they match.",
    "zia.firewall_objects": "IP source/destination groups, IP groups, network services and service groups used by "
                            "firewall rules.",
    "zia.ssl_inspection": "SSL inspection rules and intermediate CA certificates (CSR, key pairs, upload, default).",
    "zia.threat_protection": "Security allow/deny lists, advanced threat protection, malware protection, sandbox "
                             "rules and reports, behavioral analysis and mobile threat settings.",
    "zia.file_type_control": "File type control rules, custom file types and file type categories.",
    "zia.bandwidth_control": "Bandwidth classes and bandwidth control rules.",
    "zia.browser_isolation": "Cloud Browser Isolation profiles, banner themes and regions.",
    "zia.dlp": "DLP dictionaries, DLP engines, exact data match schemas, indexed document (IDM) profiles and "
               "redaction profiles.",
    "zia.dlp_rules": "Web, email and SaaS (CASB) DLP rules, DLP notification templates, domain profiles, email "
                     "tenants, and the SaaS tenants and email labels the CASB rules apply to.",
    "zia.dlp_incident_receivers": "DLP incident delivery: ICAP servers, incident receivers and cloud-to-cloud "
                                  "incident forwarding.",
    "zia.endpoint_dlp": "Endpoint DLP applications, custom applications and application groups.",
    "zia.locations": "Locations, sub-locations, location groups and templates, IPv6 configuration and region lookup.",
    "zia.traffic_forwarding": "GRE tunnels, VPN credentials, static IPs, public service edge VIPs, PAC files and "
                              "forwarding configuration audit.",
    "zia.forwarding_control": "Forwarding control rules, ZPA/proxy/DNS/dedicated-IP gateways, third-party proxies, "
                              "extranets and ZPA resource lookups.",
    "zia.service_edges": "Data centers, data center exclusions, subclouds and Virtual Service Edge (VZEN) "
                         "clusters and nodes.",
    "zia.nss": "Nanolog Streaming Service (NSS) servers and feeds, VM images and report/feed filter values.",
    # ZPA - Private Access
    "zpa.app_segments": "Application segments (incl. browser access, PRA and inspection types), server groups "
                        "and application servers.",
    "zpa.connectors": "App connectors and connector groups, provisioning keys, enrollment certificates, version "
                      "profiles, cloud connector groups, config overrides and alternate clouds.",
    "zpa.service_edges": "Private service edges and service edge groups, private cloud controllers and their groups.",
    "zpa.policies": "Policy sets and rules (access, timeout, forwarding, inspection, isolation, ...) and condition "
                    "objects: segment groups, posture profiles, trusted networks, machine groups, client types, "
                    "platforms, locations.",
    "zpa.identity": "Identity providers, SAML attributes, SCIM attributes and groups, and auth domains.",
    "zpa.admin": "Administrators, roles, permission groups, API keys, current session, microtenants, emergency "
                 "access users and SSO login options.",
    "zpa.app_protection": "AppProtection (inspection) profiles and predefined/custom inspection controls.",
    "zpa.lss": "Log Streaming Service (LSS) configurations, log formats, client types and status codes.",
    "zpa.pra": "Privileged Remote Access: consoles, portals, credentials, credential pools and privileged approvals.",
    "zpa.user_portals": "User portals, portal links and acceptable-use policies, browser access groups, and "
                        "issued (browser access/portal) certificates.",
    "zpa.cbi": "Cloud Browser Isolation: isolation profiles, banners, certificates and regions.",
    "zpa.c2c_vpn": "Client-to-client (C2C) IP ranges, VPN connected users, client settings and association types "
                   "and their domains.",
    # ZTW - Cloud & Branch Connector
    "ztw.admin": "Admin users and roles, auth sessions, password change, audit log reports, health, and "
                 "configuration activation (activation status, activate, forced activate).",
    "ztw.connectors": "Cloud/Branch Connector groups, VMs and instances, builds and appliances.",
    "ztw.provisioning": "Provisioning URLs, Cloud Connector admin templates and CSRs, and deployment tokens.",
    "ztw.locations": "Connector locations, sub-locations and location templates.",
    "ztw.forwarding": "Forwarding rules (DNS, redirect), DNS/ZIA gateways and ZPA application segment lookup.",
    "ztw.network_objects": "IP source/destination groups, IP groups, network services and workload groups.",
    "ztw.public_cloud": "Public cloud account details, account status and account groups.",
    # ZCC - Client Connector
    "zcc.devices": "Enrolled devices: list, details, downloads, removal, cleanup settings, OTPs and passwords.",
    "zcc.policies": "App profiles (web policies), bypass apps, forwarding profiles, trusted networks and "
                    "fail-open settings.",
    "zcc.admin": "Admin users and roles, ZIA/ZDX/ZPA admin sync and group entitlements, company and privacy info, "
                 "API login, credentials and rate limits.",
    # ZDX - Digital Experience
    "zdx.devices": "Device health, events, app probes (web/cloudpath), deep traces and tracing sessions.",
    "zdx.apps": "Application experience scores and metrics, alerts, root-cause analysis and snapshots.",
    "zdx.applications": "Configured and predefined applications and application collections: create, "
                        "update, activate, deactivate, status.",
    "zdx.monitors": "Probes (monitors), on their own and per configured or predefined application: create, "
                    "update, activate, deactivate, status, counts and summaries.",
    "zdx.admin": "Users, departments, groups, locations and location groups, devices in configuration, audit "
                 "log exports, active geolocations, software inventory and OAuth token endpoints.",
    # ZID - ZIdentity
    "zid.users": "ZIdentity users and groups, group membership, entitlements and password/MFA actions.",
    "zid.api_clients": "API clients and their secrets, and resource servers.",
}

_COMPILED: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    svc: tuple((re.compile(rx), fam) for rx, fam in rules) for svc, rules in TOOLSET_RULES.items()
}
_SORTED_BASE_PATHS: dict[str, tuple[str, ...]] = {
    svc: tuple(sorted(prefixes, key=len, reverse=True)) for svc, prefixes in BASE_PATHS.items()
}


def _strip_prefix(service: str, path: str) -> str | None:
    for prefix in _SORTED_BASE_PATHS.get(service, ()):
        if path == prefix or path.startswith(prefix + "/"):
            return path[len(prefix):] or "/"
    return None


def toolset_for(service: str, path: str) -> str | None:
    """Return "<service>.<family>" for an operation path (full path, prefix included), or None when no rule matches."""
    rest = _strip_prefix(service, path)
    if rest is None:
        return None
    for rx, family in _COMPILED.get(service, ()):
        if rx.search(rest):
            return f"{service}.{family}"
    return None
