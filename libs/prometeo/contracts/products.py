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
