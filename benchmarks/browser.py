"""Headless Chromium for the HTML report's benchmark and screenshots (Debian's chromium and
chromium-driver; tests/test_html.py has its own fixture). Selenium comes with the views-test extra."""

from __future__ import annotations

import shutil
import sys
from typing import Any


def headless_chromium(width: int = 1280, height: int = 900, dark: bool = False) -> Any:
    """A Selenium driver of headless Chromium whose window is width x height CSS pixels."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        sys.exit("selenium is needed: install heatline's views-test extra (make install)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        sys.exit("headless Chromium is needed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--hide-scrollbars", f"--window-size={width},{height}", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    if dark:
        options.add_argument("--force-dark-mode")
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    # The window's size includes the browser's frame: make the page's own viewport this size.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return driver
