"""Regenerate the synthetic sample data sets that ship inside every baked project.

The data are drawn from a fixed-seed simulation written for this template, so they can be
redistributed freely (CC0) and a baked project never downloads anything. Both sets mix
numeric and categorical columns and carry missing values, so the generated pipeline's
imputation and encoding are exercised from the first run.

    python scripts/make_sample_data.py            # rewrites the CSVs in place
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 2000
SAMPLE_DIR = (
    Path(__file__).resolve().parents[1] / "{{cookiecutter.project_slug}}" / "data" / "sample"
)


def with_missing(values: pd.Series, share: float, rng: np.random.Generator) -> pd.Series:
    """Blank out roughly ``share`` of ``values`` at random."""
    return values.mask(rng.random(len(values)) < share)


def churn(rng: np.random.Generator, rows: int = ROWS) -> pd.DataFrame:
    """Customers of a subscription service and whether they left (classification)."""
    contract = rng.choice(["month-to-month", "one-year", "two-year"], rows, p=[0.55, 0.25, 0.2])
    internet = rng.choice(["fiber", "dsl", "none"], rows, p=[0.45, 0.4, 0.15])
    payment = rng.choice(["card", "bank-transfer", "electronic-check", "mailed-check"], rows)
    tenure = rng.integers(0, 73, rows)
    support_calls = rng.poisson(1.5, rows)
    charges = np.round(
        20 + 45 * (internet == "fiber") + 25 * (internet == "dsl") + rng.normal(25, 12, rows), 2
    )
    charges = np.clip(charges, 18, 130)
    logit = (
        -1.2
        + 1.6 * (contract == "month-to-month")
        - 1.1 * (contract == "two-year")
        - 0.045 * tenure
        + 0.018 * (charges - 65)
        + 0.45 * support_calls
        + 0.6 * (payment == "electronic-check")
        + 0.3 * (internet == "fiber")
    )
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(1, rows + 1)],
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": support_calls,
            "contract": contract,
            "internet_service": internet,
            "payment_method": payment,
            "churned": np.where(churned, "yes", "no"),
        }
    )
    frame["monthly_charges"] = with_missing(frame["monthly_charges"], 0.03, rng)
    frame["payment_method"] = with_missing(frame["payment_method"], 0.02, rng)
    frame["internet_service"] = with_missing(frame["internet_service"], 0.01, rng)
    return frame


def house_prices(rng: np.random.Generator, rows: int = ROWS) -> pd.DataFrame:
    """Homes and their sale prices in thousands (regression)."""
    neighbourhood = rng.choice(
        ["centre", "north", "south", "east", "west"], rows, p=[0.15, 0.25, 0.2, 0.2, 0.2]
    )
    condition = rng.choice(["poor", "fair", "good", "excellent"], rows, p=[0.1, 0.3, 0.45, 0.15])
    area = np.round(rng.gamma(6, 16, rows) + 25, 1)
    rooms = np.clip(np.round(area / 28 + rng.normal(0, 0.8, rows)), 1, 10).astype(int)
    age = rng.integers(0, 120, rows)
    distance = np.round(rng.gamma(2.2, 3.5, rows) + 0.3, 2)
    garden = rng.choice(["yes", "no"], rows, p=[0.4, 0.6])
    location = pd.Series(neighbourhood).map(
        {"centre": 1.35, "north": 1.1, "south": 0.95, "east": 0.9, "west": 1.0}
    )
    quality = pd.Series(condition).map({"poor": 0.8, "fair": 0.93, "good": 1.0, "excellent": 1.15})
    price = (
        45 + 2.6 * area + 9 * rooms - 0.35 * age - 4.5 * distance + 18 * (garden == "yes")
    ) * location.to_numpy() * quality.to_numpy() + rng.normal(0, 22, rows)
    frame = pd.DataFrame(
        {
            "house_id": [f"H{i:05d}" for i in range(1, rows + 1)],
            "area_sqm": area,
            "rooms": rooms,
            "age_years": age.astype(float),
            "distance_to_centre_km": distance,
            "neighbourhood": neighbourhood,
            "condition": condition,
            "has_garden": garden,
            "price_k": np.round(np.maximum(price, 40), 1),
        }
    )
    frame["age_years"] = with_missing(frame["age_years"], 0.05, rng)
    frame["condition"] = with_missing(frame["condition"], 0.03, rng)
    return frame


def main() -> None:
    SAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    churn(np.random.default_rng(7)).to_csv(SAMPLE_DIR / "churn.csv", index=False)
    house_prices(np.random.default_rng(11)).to_csv(SAMPLE_DIR / "house_prices.csv", index=False)


if __name__ == "__main__":
    main()
