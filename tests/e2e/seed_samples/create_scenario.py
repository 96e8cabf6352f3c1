import httpx

scenario = httpx.post(
    "http://127.0.0.1:8051/api/v1/sessions/main/scenarios",
    json={
        "tag": "slow-5s",
        "dataset_key": "Master data",
        "algo_name": "Slow",
        "algo_params": {"duration": 5},
    },
).json()
