from tests.support import LiveServer, task_body


def test_claim_round_trip(server: LiveServer) -> None:
    server.add_user("smq")
    server.publish("taskRegister", [task_body("0001")])
    smq = server.login("smq")
    assert len(smq.post("/rpost/task", json={"operation": "GetTasksNoUser"}).json()) == 1
    assert smq.post("/rpost/task", json={"operation": "TaskBind"}).json() == "success"
    mine = smq.post("/rpost/task", json={"operation": "GetTasksByUser"}).json()
    assert [t["User"] for t in mine] == ["smq"]
