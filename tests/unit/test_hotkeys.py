from aldesk.core.hotkeys import RESERVED, assign_hotkeys, hotkey_for


def test_digit_classes_are_typed_as_seen():
    assert assign_hotkeys([str(d) for d in range(10)]) == [str(d) for d in range(10)]


def test_long_names_get_their_position():
    assert assign_hotkeys(["normal", "pneumonia", "effusion"]) == ["1", "2", "3"]


def test_single_character_names_are_served_before_positions():
    keys = assign_hotkeys(["cat", "dog", "1"])
    assert keys[2] == "1"
    assert len(set(keys)) == 3 and None not in keys


def test_reserved_and_duplicate_keys_are_never_handed_out():
    keys = assign_hotkeys(["s", "u", "A", "a", "x"])
    assert not set(keys) & RESERVED
    assert keys[2] == "a" and keys[3] != "a"
    assert len(set(keys)) == len(keys)


def test_many_classes_run_out_of_keys_gracefully():
    keys = assign_hotkeys([f"class {i}" for i in range(60)])
    given = [k for k in keys if k]
    assert len(given) == len(set(given)) >= 30
    assert keys[-1] is None


def test_hotkey_for_a_class_added_later():
    assert hotkey_for("tumour", 4, taken=["1", "2", "3"]) == "4"
    assert hotkey_for("z", 4, taken=["1"]) == "z"
    assert hotkey_for("other", 2, taken=["1", "2"]) == "3"
