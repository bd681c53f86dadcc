"""The product vocabulary shared by every service (codes only; values and rules live in policies)."""

from enum import StrEnum
from typing import Literal


class ProductCode(StrEnum):
    PAYROLL_ACCOUNT = "payroll_account"
    SAVINGS = "savings"
    CREDIT_CARD = "credit_card"
    PERSONAL_LOAN = "personal_loan"
    AUTO_LOAN = "auto_loan"
    MORTGAGE = "mortgage"
    AUTO_INSURANCE = "auto_insurance"
    LIFE_INSURANCE = "life_insurance"
    HOME_INSURANCE = "home_insurance"
    INVESTMENT_FUND = "investment_fund"
    # Business credit (what a customer's company holds elsewhere): never offered by a retail policy.
    BUSINESS_WORKING_CAPITAL = "business_working_capital"
    BUSINESS_OVERDRAFT = "business_overdraft"
    BUSINESS_RECEIVABLES_DISCOUNT = "business_receivables_discount"
    RURAL_CREDIT = "rural_credit"
    MICROCREDIT = "microcredit"


# The retail products the models score and the policies offer. Business codes are only ever "held":
# a vector, a gap count or a synthetic bank built over ProductCode must iterate this, not the enum.
BUSINESS_PRODUCTS: frozenset[ProductCode] = frozenset(
    {
        ProductCode.BUSINESS_WORKING_CAPITAL,
        ProductCode.BUSINESS_OVERDRAFT,
        ProductCode.BUSINESS_RECEIVABLES_DISCOUNT,
        ProductCode.RURAL_CREDIT,
        ProductCode.MICROCREDIT,
    }
)
RETAIL_PRODUCTS: tuple[ProductCode, ...] = tuple(p for p in ProductCode if p not in BUSINESS_PRODUCTS)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    APP_PUSH = "app_push"
    IN_APP = "in_app"
    ADVISOR = "advisor"


# What a next-best-action ranking maximises among eligible offers. expected_value: propensity × value ×
# channel response (margin per contact). conversion: propensity × channel response (acceptances per
# contact; value only breaks ties).
Objective = Literal["expected_value", "conversion"]
