# The project's rooms: one folder, one static library, and the rooms below it that it uses.
# A room's files include the headers of its own folder and of the rooms it USES, nothing
# else of the project's; the test `rooms.include_only_what_they_use` checks every file.
#
#   fnft_room(<target> SOURCES <files...> [USES <rooms...>] [LIBS <libraries...>]
#             [PRIVATE_FOLDERS <sub-folders...>])
#
# USES links the rooms and allows their headers; LIBS are third-party libraries the room's
# headers expose (public); fnft_warnings applies to the room's own files only.
# PRIVATE_FOLDERS (e.g. netlink/detail/) hold what only the room itself may include: their
# files are the room's, and the rooms that use it see its folder, not them.
function(fnft_room target)
  cmake_parse_arguments(ROOM "" "" "SOURCES;USES;LIBS;PRIVATE_FOLDERS" ${ARGN})
  add_library(${target} STATIC ${ROOM_SOURCES})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} PUBLIC ${ROOM_USES} ${ROOM_LIBS} PRIVATE fnft_warnings)
  file(RELATIVE_PATH folder ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  set_property(GLOBAL APPEND PROPERTY FNFT_ROOMS ${target})
  set_property(GLOBAL PROPERTY FNFT_ROOM_${target}_FOLDER ${folder})
  set_property(GLOBAL PROPERTY FNFT_ROOM_${target}_USES ${ROOM_USES})
  set(private "")
  foreach(sub IN LISTS ROOM_PRIVATE_FOLDERS)
    list(APPEND private ${folder}/${sub})
  endforeach()
  set_property(GLOBAL PROPERTY FNFT_ROOM_${target}_PRIVATE ${private})
endfunction()

# Writes the rooms and what each may include for the checker, and adds its test. Called
# once every room is declared.
function(fnft_room_check)
  get_property(rooms GLOBAL PROPERTY FNFT_ROOMS)
  set(rules "set(ROOMS ${rooms})\n")
  foreach(room IN LISTS rooms)
    get_property(folder GLOBAL PROPERTY FNFT_ROOM_${room}_FOLDER)
    get_property(uses GLOBAL PROPERTY FNFT_ROOM_${room}_USES)
    get_property(private GLOBAL PROPERTY FNFT_ROOM_${room}_PRIVATE)
    set(allowed ${folder} ${private})
    foreach(used IN LISTS uses)
      get_property(used_folder GLOBAL PROPERTY FNFT_ROOM_${used}_FOLDER)
      list(APPEND allowed ${used_folder})
    endforeach()
    string(APPEND rules "set(ROOM_${room}_FOLDERS ${folder} ${private})\n"
                        "set(ROOM_${room}_MAY_INCLUDE ${allowed})\n")
  endforeach()
  file(WRITE ${PROJECT_BINARY_DIR}/room_rules.cmake "${rules}")
  add_test(NAME rooms.include_only_what_they_use
           COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                   -DRULES=${PROJECT_BINARY_DIR}/room_rules.cmake
                   -P ${PROJECT_SOURCE_DIR}/cmake/check_room_includes.cmake)
  set_tests_properties(rooms.include_only_what_they_use PROPERTIES LABELS unit)
endfunction()
