"""A QuickBooks Online company on localhost, speaking the Accounting API v3 as Intuit's
documentation and entity schemas describe it:

- OAuth 2.0: `POST /oauth2/v1/tokens/bearer` (`grant_type=refresh_token`, Basic client auth)
  answers a one-hour access token and a new refresh token; a spent refresh token is
  `invalid_grant`. API paths are `/v3/company/<realmId>/…`; a wrong realm is 403, a missing or
  expired token 401 with an `AUTHENTICATION` fault.
- `query` (`select * from <Entity> [where <Field> = '<value>']`), `companyinfo`, and creates by
  `POST /<entity>` for customer, invoice, creditmemo, payment, journalentry; `GET
  /<entity>/<id>`. Every entity has `Id` and `SyncToken`; an update (`Id` + `SyncToken`,
  `sparse`) with a stale token is fault 5010 "Stale Object Error". `requestid`: a create repeated
  with the same id answers the first answer again.
- Non-US tax: lines name a `TaxCodeRef`; tax is computed per rate on the sum of the lines at that
  rate unless the transaction states its `TxnTaxDetail.TaxLine` amounts (kept, the difference as
  `OverrideDeltaAmount`). `DocNumber` unique (6140 "Duplicate Document Number Error"), `DisplayName`
  unique (6240 "Duplicate Name Exists Error"), items and accounts checked; payments never more than
  an invoice's balance; a zero payment linking an invoice and a credit memo applies the credit.
- Faults: `{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type"}, "time"}` with
  400 — or, for fault codes switched on through `/_sandbox/faults_in_200`, inside a 200 answer, as
  Intuit warns can happen.
- 500 requests a minute per company: 429 with a `ThrottleExceeded` fault.

Control API: `GET /_sandbox/books`, `POST /_sandbox/customers/<id>/touch` (someone edits the
customer in QuickBooks: its SyncToken moves on), `POST /_sandbox/faults_in_200`.
Standard library and the harness only: no hub code, no Django."""

import re
from base64 import b64decode
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from connectors.testing.harness import Abort, FixedWindow, Request, Sandbox, control, json_response, route

ACCESS_SECONDS = 3600
CENT = Decimal("0.01")
TAX_RATES = [("1", "TVA 20 %", "20"), ("2", "TVA 10 %", "10"), ("3", "TVA 5,5 %", "5.5"), ("4", "TVA 2,1 %", "2.1"), ("5", "Exonéré", "0")]
TAX_CODES = [("11", "20,0 % TVA", "1"), ("12", "10,0 % TVA", "2"), ("13", "5,5 % TVA", "3"), ("14", "2,1 % TVA", "4"), ("15", "0 % Exonéré", "5")]
ACCOUNTS = [("40", "Ventes", "Income", "706000"), ("41", "Clients", "Accounts Receivable", "411000"), ("42", "Banque", "Bank", "512000"),
            ("43", "Chèques à encaisser", "Bank", "511200"), ("44", "Cartes bancaires", "Bank", "511500"),
            ("45", "Prestataires de paiement", "Bank", "467100")]
ITEMS = ["707000", "707100", "707200", "707300", "707400", "708500", "708800", "709700"]


def _money(value) -> Decimal:
    return Decimal(str(value if value is not None else 0))


class QuickBooksSandbox(Sandbox):
    name = "quickbooks"

    def __init__(self, *, client_id: str, client_secret: str, refresh_token: str, realm_id: str, minute_limit: int = 500, **kwargs):
        self.client_id, self.client_secret, self.first_refresh_token, self.realm_id = client_id, client_secret, refresh_token, realm_id
        self.minute_limit = minute_limit
        super().__init__(**kwargs)

    def reset_state(self) -> None:
        self.refresh_tokens = {self.first_refresh_token}
        self.spent_refresh_tokens: set[str] = set()
        self.access_tokens: dict[str, datetime] = {}
        self.minute = FixedWindow(self.minute_limit, 60, clock=self.clock.monotonic)
        self.entities: dict[str, dict[str, dict]] = defaultdict(dict)
        for rate_id, name, value in TAX_RATES:
            self.entities["TaxRate"][rate_id] = {"Id": rate_id, "Name": name, "RateValue": float(Decimal(value)), "Active": True, "SyncToken": "0"}
        for code_id, name, rate_id in TAX_CODES:
            self.entities["TaxCode"][code_id] = {"Id": code_id, "Name": name, "Active": True, "SyncToken": "0",
                                                 "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": rate_id}, "TaxOrder": 0}]}}
        for account_id, name, kind, number in ACCOUNTS:
            self.entities["Account"][account_id] = {"Id": account_id, "Name": name, "AccountType": kind, "AcctNum": number, "Active": True,
                                                    "SyncToken": "0"}
        for n, name in enumerate(ITEMS, start=100):
            self.entities["Item"][str(n)] = {"Id": str(n), "Name": name, "Type": "Service", "IncomeAccountRef": {"value": "40"},
                                             "Active": True, "SyncToken": "0"}
        self.request_ids: dict[str, dict] = {}
        self.faults_in_200: set[str] = set()

    # --- auth and limits ------------------------------------------------------------------------
    @route("POST", "/oauth2/v1/tokens/bearer", auth=False)
    def token(self, request: Request):
        try:
            client_id, secret = b64decode((request.header("Authorization") or " ").split(" ", 1)[1]).decode().split(":", 1)
        except (ValueError, IndexError):
            client_id = secret = ""
        if (client_id, secret) != (self.client_id, self.client_secret):
            return json_response({"error": "invalid_client"}, 401)
        form = {key: values[-1] for key, values in request.form().items()}
        token = form.get("refresh_token", "")
        if form.get("grant_type") != "refresh_token" or token not in self.refresh_tokens:
            self.count("refresh token refused")
            return json_response({"error": "invalid_grant"}, 400)
        self.refresh_tokens.discard(token)
        self.spent_refresh_tokens.add(token)
        access, refresh = self.ids.token(48), self.ids.token(48)
        self.access_tokens[access] = self.clock.now() + timedelta(seconds=ACCESS_SECONDS)
        self.refresh_tokens.add(refresh)
        return {"token_type": "bearer", "access_token": access, "expires_in": ACCESS_SECONDS, "refresh_token": refresh,
                "x_refresh_token_expires_in": 8726400}

    def _fault(self, status: int, code: str, message: str, detail: str, kind: str = "ValidationFault", element: str = ""):
        return json_response({"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code, "element": element}], "type": kind},
                              "time": self.clock.now().isoformat(timespec="milliseconds")}, status)

    def authenticate(self, request: Request):
        if not request.path.startswith("/v3/"):
            return None
        header = request.header("Authorization") or ""
        expires = self.access_tokens.get(header[7:] if header.startswith("Bearer ") else "")
        if expires is None or expires <= self.clock.now():
            return self._fault(401, "3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                               "Token expired" if expires else "Token invalid", "AUTHENTICATION")
        if not request.path.startswith(f"/v3/company/{self.realm_id}/"):
            return self._fault(403, "3100", "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                               "The company is not connected to this app", "AUTHORIZATION")
        return None

    def throttle(self, request: Request):
        if not request.path.startswith("/v3/"):
            return None
        allowed, _ = self.minute.take()
        if not allowed:
            return self._fault(429, "003001", "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                               "The request limit was reached.", "SERVICE")
        return None

    def throttled_response(self, request, retry_after):
        return self._fault(429, "003001", "message=ThrottleExceeded; errorCode=003001; statusCode=429", "The request limit was reached.",
                           "SERVICE")

    # --- the API --------------------------------------------------------------------------------
    def _invalid(self, code: str, message: str, detail: str, element: str = ""):
        status = 200 if code in self.faults_in_200 else 400
        raise Abort(self._fault(status, code, message, detail, element=element))

    def _answer(self, entity: str, item: dict) -> dict:
        return {entity: item, "time": self.clock.now().isoformat(timespec="milliseconds")}

    @route("GET", "/v3/company/<realm>/query")
    def query(self, request, realm):
        statement = request.arg("query") or ""
        match = re.fullmatch(r"\s*select \* from (\w+)(?:\s+where\s+(\w+)\s*=\s*'((?:[^'\\]|\\.)*)')?\s*", statement, re.IGNORECASE)
        if not match:
            self._invalid("4000", "Error parsing query", f"QueryParserError: {statement}")
        entity, field, value = match.group(1), match.group(2), match.group(3)
        entity = next((name for name in self.entities if name.lower() == entity.lower()), entity)
        items = list(self.entities.get(entity, {}).values())
        if field:
            wanted = re.sub(r"\\(.)", r"\1", value)
            items = [item for item in items if str(item.get(field, "")) == wanted]
        return {"QueryResponse": {entity: items, "startPosition": 1, "maxResults": len(items)} if items else {},
                "time": self.clock.now().isoformat(timespec="milliseconds")}

    @route("GET", "/v3/company/<realm>/companyinfo/<company>")
    def company_info(self, request, realm, company):
        return self._answer("CompanyInfo", {"CompanyName": "Maison & Jardin Lumière SAS (sandbox)", "Id": "1", "Country": "FR"})

    @route("GET", "/v3/company/<realm>/<entity>/<item_id>")
    def read(self, request, realm, entity, item_id):
        name = self._entity(entity)
        if item_id not in self.entities[name]:
            self._invalid("610", "Object Not Found", f"Object Not Found : Something you're trying to use has been made inactive or deleted.")
        return self._answer(name, self.entities[name][item_id])

    @staticmethod
    def _entity(path_name: str) -> str:
        names = {"customer": "Customer", "invoice": "Invoice", "creditmemo": "CreditMemo", "payment": "Payment", "journalentry": "JournalEntry",
                 "item": "Item", "account": "Account"}
        if path_name not in names:
            raise Abort(json_response({"Fault": {"Error": [{"Message": "Unsupported Operation", "Detail": path_name, "code": "500"}],
                                                 "type": "ValidationFault"}}, 400))
        return names[path_name]

    @route("POST", "/v3/company/<realm>/<entity>")
    def write(self, request, realm, entity):
        name = self._entity(entity)
        request_id = request.arg("requestid")
        if request_id and request_id in self.request_ids:
            self.count("requestid replays")
            return self.request_ids[request_id]
        body = request.json() or {}
        if body.get("Id"):
            answer = self._answer(name, self._update(name, body))
        else:
            answer = self._answer(name, getattr(self, f"_create_{name.lower()}")(body))
        if request_id:
            self.request_ids[request_id] = answer
        return answer

    def _store(self, name: str, item: dict) -> dict:
        item.update(Id=str(self.ids.next("entity")), SyncToken="0",
                    MetaData={"CreateTime": self.clock.now().isoformat(timespec="seconds"), "LastUpdatedTime": self.clock.now().isoformat(timespec="seconds")})
        self.entities[name][item["Id"]] = item
        self.count(f"{name} created")
        return item

    def _update(self, name: str, body: dict) -> dict:
        current = self.entities[name].get(str(body["Id"]))
        if current is None:
            self._invalid("610", "Object Not Found", "Object Not Found : Something you're trying to use has been made inactive or deleted.")
        if str(body.get("SyncToken")) != current["SyncToken"]:
            self.count("stale updates")
            self._invalid("5010", "Stale Object Error", "Stale Object Error : You and another user were working on the same thing. "
                                                       "The other user finished before you did, so your work was not saved.")
        if name == "Customer" and body.get("DisplayName"):
            self._unique_name(body["DisplayName"], current["Id"])
        changes = {k: v for k, v in body.items() if k not in ("Id", "SyncToken", "sparse")}
        current.update(changes)
        current["SyncToken"] = str(int(current["SyncToken"]) + 1)
        return current

    def _unique_name(self, display_name: str, own_id: str | None) -> None:
        if any(c["DisplayName"] == display_name and c["Id"] != own_id for c in self.entities["Customer"].values()):
            self._invalid("6240", "Duplicate Name Exists Error", f"The name supplied already exists. : {display_name}")

    def _create_customer(self, body):
        if not body.get("DisplayName"):
            self._invalid("2020", "Required param missing, need to supply the required value for the API", "DisplayName", "DisplayName")
        self._unique_name(body["DisplayName"], None)
        return self._store("Customer", {**body, "Active": True, "Balance": 0})

    def _sales(self, body: dict, name: str) -> dict:
        customer = self.entities["Customer"].get((body.get("CustomerRef") or {}).get("value", ""))
        if customer is None:
            self._invalid("2500", "Invalid Reference Id", "Invalid Reference Id : Customer assigned to this transaction has been deleted.")
        number = body.get("DocNumber") or str(self.ids.next(name))
        if len(number) > 21:
            self._invalid("6000", "A business validation error has occurred", "String length is either shorter or longer than supported")
        if any(d.get("DocNumber") == number for d in self.entities[name].values()):
            self._invalid("6140", "Duplicate Document Number Error", f"Duplicate Document Number Error : You must specify a different "
                                                                     f"number. This number has already been used. DocNumber={number}")
        lines, net_by_code = [], defaultdict(Decimal)
        for line in body.get("Line") or []:
            if line.get("DetailType") != "SalesItemLineDetail":
                continue
            detail = line.get("SalesItemLineDetail") or {}
            item = self.entities["Item"].get((detail.get("ItemRef") or {}).get("value", ""))
            if item is None:
                self._invalid("2500", "Invalid Reference Id", f"Invalid Reference Id : Item {detail.get('ItemRef')} does not exist")
            code = (detail.get("TaxCodeRef") or {}).get("value", "")
            if code not in self.entities["TaxCode"]:
                self._invalid("6000", "A business validation error has occurred while processing your request",
                              f"Business Validation Error: Make sure all your transactions have a GST/HST rate before you save. TaxCode {code!r}")
            net_by_code[code] += _money(line.get("Amount"))
            lines.append({**line, "Id": str(len(lines) + 1), "LineNum": len(lines) + 1})
        if not lines:
            self._invalid("6000", "A business validation error has occurred", "Business Validation Error: A transaction needs a line")
        stated = {((l.get("TaxLineDetail") or {}).get("TaxRateRef") or {}).get("value"): _money(l.get("Amount"))
                  for l in (body.get("TxnTaxDetail") or {}).get("TaxLine") or []}
        tax_lines, total_tax = [], Decimal(0)
        for code, net in sorted(net_by_code.items()):
            rate_id = self.entities["TaxCode"][code]["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]["value"]
            percent = _money(self.entities["TaxRate"][rate_id]["RateValue"])
            computed = (net * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            amount = stated.get(rate_id, computed)
            total_tax += amount
            tax_lines.append({"Amount": float(amount), "DetailType": "TaxLineDetail",
                              "TaxLineDetail": {"TaxRateRef": {"value": rate_id}, "PercentBased": True, "TaxPercent": float(percent),
                                                "NetAmountTaxable": float(net), "OverrideDeltaAmount": float(amount - computed)}})
        total = sum(net_by_code.values(), Decimal(0)) + total_tax
        document = {**body, "DocNumber": number, "Line": lines, "TotalAmt": float(total), "Balance": float(total),
                    "TxnTaxDetail": {"TotalTax": float(total_tax), "TaxLine": tax_lines}}
        if name == "CreditMemo":
            document["RemainingCredit"] = float(total)
        return self._store(name, document)

    def _create_invoice(self, body):
        return self._sales(body, "Invoice")

    def _create_creditmemo(self, body):
        return self._sales(body, "CreditMemo")

    def _create_payment(self, body):
        if (body.get("CustomerRef") or {}).get("value") not in self.entities["Customer"]:
            self._invalid("2500", "Invalid Reference Id", "Invalid Reference Id : Customer")
        total, applied, credits = _money(body.get("TotalAmt")), Decimal(0), Decimal(0)
        if total > 0 and (self.entities["Account"].get((body.get("DepositToAccountRef") or {}).get("value", "")) or {}).get("AccountType") != "Bank":
            self._invalid("2500", "Invalid Reference Id", "Invalid Reference Id : DepositToAccountRef must be a bank account")
        links = []
        for line in body.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                kind = link.get("TxnType")
                target = self.entities["Invoice" if kind == "Invoice" else "CreditMemo"].get(link.get("TxnId", ""))
                if target is None:
                    self._invalid("2500", "Invalid Reference Id", f"Invalid Reference Id : {kind} {link.get('TxnId')}")
                amount = _money(line.get("Amount"))
                if amount > _money(target["Balance"]):
                    self._invalid("6000", "A business validation error has occurred",
                                  f"Business Validation Error: The payment amount ({amount}) exceeds the balance of {kind} {target['DocNumber']}")
                links.append((target, amount))
                if kind == "Invoice":
                    applied += amount
                else:
                    credits += amount
        if applied != total + credits:
            self._invalid("6000", "A business validation error has occurred", "Business Validation Error: The amounts applied must equal the payment")
        for target, amount in links:
            target["Balance"] = float(_money(target["Balance"]) - amount)
            if "RemainingCredit" in target:
                target["RemainingCredit"] = target["Balance"]
            target["SyncToken"] = str(int(target["SyncToken"]) + 1)
        return self._store("Payment", {**body, "UnappliedAmt": 0.0})

    def _create_journalentry(self, body):
        debit = sum((_money(l.get("Amount")) for l in body.get("Line") or [] if (l.get("JournalEntryLineDetail") or {}).get("PostingType") == "Debit"), Decimal(0))
        credit = sum((_money(l.get("Amount")) for l in body.get("Line") or [] if (l.get("JournalEntryLineDetail") or {}).get("PostingType") == "Credit"), Decimal(0))
        if debit != credit or not debit:
            self._invalid("6000", "A business validation error has occurred", "Business Validation Error: Journal Entry must be balanced")
        for line in body.get("Line") or []:
            account = ((line.get("JournalEntryLineDetail") or {}).get("AccountRef") or {}).get("value", "")
            if account not in self.entities["Account"]:
                self._invalid("2500", "Invalid Reference Id", f"Invalid Reference Id : Account {account}")
        return self._store("JournalEntry", dict(body))

    # --- control --------------------------------------------------------------------------------
    def state(self) -> dict:
        return {name: len(items) for name, items in self.entities.items() if name in ("Customer", "Invoice", "CreditMemo", "Payment", "JournalEntry")}

    @control("GET", "books")
    def control_books(self, request):
        return {name: list(self.entities[name].values()) for name in ("Customer", "Invoice", "CreditMemo", "Payment", "JournalEntry")}

    @control("POST", "customers/<customer_id>/touch")
    def control_touch(self, request, customer_id):
        customer = self.entities["Customer"][customer_id]
        customer["SyncToken"] = str(int(customer["SyncToken"]) + 1)
        return customer

    @control("POST", "faults_in_200")
    def control_faults_in_200(self, request):
        self.faults_in_200 = set((request.json() or {}).get("codes") or [])
        return {"codes": sorted(self.faults_in_200)}


